using System.Text.Json;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>The models read Stripe's published example objects and keep what they do not model.</summary>
public class StripeModelTests
{
    [Fact]
    public void CheckoutSession_FromStripesExample_ReadsModelledFieldsAndKeepsTheRest()
    {
        var json = StripeFixtures.Get("checkout.session");
        json["metadata"] = new JsonObject { ["wavhaven_type"] = "license" };

        var sut = JsonSerializer.Deserialize(json.ToJsonString(), StripeJsonContext.Default.StripeCheckoutSession)!;

        sut.Id.Should().StartWith("cs_test_");
        sut.Object.Should().Be("checkout.session");
        sut.Mode.Should().Be("payment");
        sut.Status.Should().Be("open");
        sut.PaymentStatus.Should().Be("unpaid");
        sut.PaymentIntent.Should().Be("pi_1PgafyB7WZ01zgkWSjxsAJo3");
        sut.CustomerDetails!.Email.Should().Be("example@example.com");
        sut.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1234567890));
        sut.Metadata.Should().ContainKey("wavhaven_type").WhoseValue.Should().Be("license");
        sut.ExtensionData.Should().ContainKey("after_expiration").And.ContainKey("collected_information");
        sut.ExtensionData!["collected_information"].GetProperty("shipping_details").GetProperty("name").GetString().Should().Be("name");
    }

    [Fact]
    public void Subscription_FromStripesExample_ReadsPeriodFromItems()
    {
        var json = StripeFixtures.Get("subscription");

        var sut = JsonSerializer.Deserialize(json.ToJsonString(), StripeJsonContext.Default.StripeSubscription)!;

        sut.Id.Should().Be("sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
        sut.Customer.Should().Be("cus_QXg1o8vcGmoR32");
        var item = sut.Items!.Data.Should().ContainSingle().Subject;
        item.Id.Should().Be("si_QXhVnC2h0Jczwc");
        item.Price!.Id.Should().Be("price_1PgafmB7WZ01zgkW6dKueIc5");
        item.Price.Recurring!.Interval.Should().Be("month");
        item.CurrentPeriodEnd.Should().Be(DateTimeOffset.FromUnixTimeSeconds(976287773));
        sut.ExtensionData.Should().ContainKey("billing_cycle_anchor");
    }

    [Fact]
    public void Invoice_FromStripesExample_FindsTheSubscriptionUnderParent()
    {
        var json = StripeFixtures.Get("invoice");
        json["parent"] = new JsonObject
        {
            ["type"] = "subscription_details",
            ["subscription_details"] = new JsonObject { ["subscription"] = "sub_123", ["metadata"] = new JsonObject { ["wavhaven_user_id"] = "42" } },
        };

        var sut = JsonSerializer.Deserialize(json.ToJsonString(), StripeJsonContext.Default.StripeInvoice)!;

        sut.SubscriptionId.Should().Be("sub_123");
        sut.Parent!.SubscriptionDetails!.Metadata.Should().Contain("wavhaven_user_id", "42");
        sut.AmountDue.Should().Be(1000);
        sut.Lines!.Data.Should().ContainSingle().Which.Period!.End.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1721954054));
    }

    [Fact]
    public void ExpandedField_IsReadAsTheExpandedObjectsId()
    {
        var json = StripeFixtures.Get("checkout.session");
        json["customer"] = StripeFixtures.Get("customer");

        var sut = JsonSerializer.Deserialize(json.ToJsonString(), StripeJsonContext.Default.StripeCheckoutSession)!;

        sut.Customer.Should().Be("cus_QXg1o8vcGmoR32");
    }

    [Fact]
    public void NullMetadata_IsReadAsEmpty()
    {
        var json = StripeFixtures.Get("item");

        var sut = JsonSerializer.Deserialize(json.ToJsonString(), StripeJsonContext.Default.StripeListStripeLineItem.Options.GetTypeInfo(typeof(StripeLineItem))) as StripeLineItem;

        sut!.Metadata.Should().BeEmpty();
        sut.Price!.UnitAmount.Should().Be(1000);
    }

    [Fact]
    public void DeletedCustomer_IsReadAsDeleted()
    {
        var sut = JsonSerializer.Deserialize(StripeFixtures.Get("deleted_customer").ToJsonString(), StripeJsonContext.Default.StripeCustomer)!;

        sut.Deleted.Should().BeTrue();
        sut.Metadata.Should().BeEmpty();
    }
}
