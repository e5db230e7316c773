using System.Text;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>Every modelled object of Stripe's fixtures, read through the library's own path (StripeJson), field by field.</summary>
public class StripeFixtureFidelityTests
{
    private static T Read<T>(JsonNode json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        StripeJson.Deserialize(Encoding.UTF8.GetBytes(json.ToJsonString()), type)!;

    private static DateTimeOffset At(long seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds);

    [Fact]
    public void CheckoutSession()
    {
        var s = Read(StripeFixtures.Get("checkout.session"), StripeJsonContext.Default.StripeCheckoutSession);
        s.Id.Should().Be("cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY");
        s.Object.Should().Be("checkout.session");
        s.Mode.Should().Be("payment");
        s.Status.Should().Be("open");
        s.PaymentStatus.Should().Be("unpaid");
        s.ClientReferenceId.Should().BeNull();
        s.Customer.Should().BeNull();
        s.CustomerEmail.Should().BeNull();
        s.CustomerDetails!.Email.Should().Be("example@example.com");
        s.Metadata.Should().BeEmpty();
        s.AmountSubtotal.Should().BeNull();
        s.AmountTotal.Should().BeNull();
        s.Currency.Should().BeNull();
        s.PaymentIntent.Should().Be("pi_1PgafyB7WZ01zgkWSjxsAJo3");
        s.Subscription.Should().BeNull();
        s.Invoice.Should().BeNull();
        s.Url.Should().StartWith("https://checkout.stripe.com/");
        s.SuccessUrl.Should().Be("https://example.com/success");
        s.CancelUrl.Should().Be("https://example.com/cancel");
        s.ExpiresAt.Should().Be(At(1234567890));
        s.Created.Should().Be(At(1234567890));
        s.Livemode.Should().BeFalse();
        s.LineItems.Should().BeNull();
        s.ExtensionData.Should().ContainKey("collected_information");
    }

    [Fact]
    public void CheckoutSession_Expanded()
    {
        var json = StripeFixtures.Get("checkout.session");
        json["customer"] = StripeFixtures.Get("customer");
        json["subscription"] = StripeFixtures.Get("subscription");
        json["invoice"] = StripeFixtures.Get("invoice");
        json["payment_intent"] = new JsonObject { ["id"] = "pi_x", ["object"] = "payment_intent", ["metadata"] = new JsonObject { ["id"] = "nope" } };
        json["line_items"] = new JsonObject { ["object"] = "list", ["data"] = new JsonArray(StripeFixtures.Get("item")), ["has_more"] = false, ["url"] = "/v1/checkout/sessions/cs/line_items" };
        var s = Read(json, StripeJsonContext.Default.StripeCheckoutSession);
        s.Customer.Should().Be("cus_QXg1o8vcGmoR32");
        s.Subscription.Should().Be("sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
        s.Invoice.Should().Be("in_1Pgc6tB7WZ01zgkWu9fdqL6I");
        s.PaymentIntent.Should().Be("pi_x");
        var item = s.LineItems!.Data.Should().ContainSingle().Subject;
        item.Id.Should().Be("li_1Pgc73B7WZ01zgkWx8kcmZPK");
        item.Description.Should().Be("T-shirt");
        item.Quantity.Should().Be(1);
        item.Currency.Should().Be("usd");
        item.Price!.Id.Should().Be("price_1PgafmB7WZ01zgkW02Hf9z6c");
        item.Metadata.Should().BeEmpty();
        s.ExtensionData.Should().ContainKey("collected_information");
    }

    [Fact]
    public void Customer_AndDeleted()
    {
        var c = Read(StripeFixtures.Get("customer"), StripeJsonContext.Default.StripeCustomer);
        c.Id.Should().Be("cus_QXg1o8vcGmoR32");
        c.Email.Should().BeNull();
        c.Name.Should().BeNull();
        c.Deleted.Should().BeFalse();
        c.Created.Should().Be(At(1234567890));
        c.ExtensionData.Should().ContainKey("invoice_settings");
        var d = Read(StripeFixtures.Get("deleted_customer"), StripeJsonContext.Default.StripeCustomer);
        d.Deleted.Should().BeTrue();
        d.Created.Should().BeNull();
    }

    [Fact]
    public void Subscription()
    {
        var s = Read(StripeFixtures.Get("subscription"), StripeJsonContext.Default.StripeSubscription);
        s.Status.Should().Be("active");
        s.CancelAtPeriodEnd.Should().BeTrue();
        s.CancelAt.Should().Be(At(1234567890));
        s.CanceledAt.Should().Be(At(1234567890));
        s.EndedAt.Should().Be(At(1234567890));
        s.TrialStart.Should().Be(At(1234567890));
        s.TrialEnd.Should().Be(At(1234567890));
        s.Currency.Should().Be("usd");
        s.LatestInvoice.Should().BeNull();
        s.Items!.HasMore.Should().BeFalse();
        s.Items.Url.Should().StartWith("/v1/subscription_items");
        var item = s.Items.Data.Single();
        item.Quantity.Should().Be(1);
        item.Price!.Product.Should().Be("prod_QXg1hqf4jFNsqG");
        item.Price.UnitAmount.Should().Be(2000);
        item.Price.Recurring!.IntervalCount.Should().Be(1);
        item.Price.Active.Should().BeTrue();
        item.Price.Type.Should().Be("recurring");
        item.ExtensionData.Should().ContainKey("subscription");
    }

    [Fact]
    public void Subscription_WithExpandedLatestInvoiceAndCustomer()
    {
        var json = StripeFixtures.Get("subscription");
        json["latest_invoice"] = StripeFixtures.Get("invoice");
        json["customer"] = StripeFixtures.Get("customer");
        var s = Read(json, StripeJsonContext.Default.StripeSubscription);
        s.LatestInvoice.Should().Be("in_1Pgc6tB7WZ01zgkWu9fdqL6I");
        s.Customer.Should().Be("cus_QXg1o8vcGmoR32");
    }

    [Fact]
    public void Invoice()
    {
        var i = Read(StripeFixtures.Get("invoice"), StripeJsonContext.Default.StripeInvoice);
        i.Customer.Should().Be("cus_QXg1o8vcGmoR32");
        i.Status.Should().Be("draft");
        i.BillingReason.Should().Be("manual");
        i.AmountDue.Should().Be(1000);
        i.AmountRemaining.Should().Be(1000);
        i.Number.Should().BeNull();
        i.PeriodStart.Should().Be(At(1234567890));
        i.Parent!.Type.Should().Be("quote_details");
        i.Parent.SubscriptionDetails!.Metadata.Should().BeEmpty();
        var line = i.Lines!.Data.Single();
        line.Amount.Should().Be(1000);
        line.Description.Should().Be("My First Invoice Item (created for API docs)");
        line.Period!.Start.Should().Be(At(1721954054));
        line.Pricing!.Type.Should().Be("price_details");
        line.Pricing.PriceDetails.Should().BeNull();
    }

    [Fact]
    public void Invoice_WithExpandedPriceOnALine_AndExpandedSubscription()
    {
        var json = StripeFixtures.Get("invoice");
        json["parent"] = new JsonObject
        {
            ["type"] = "subscription_details",
            ["subscription_details"] = new JsonObject { ["subscription"] = StripeFixtures.Get("subscription"), ["metadata"] = null },
        };
        json["lines"]!["data"]![0]!["pricing"] = new JsonObject
        {
            ["type"] = "price_details",
            ["price_details"] = new JsonObject { ["price"] = StripeFixtures.Get("price"), ["product"] = "prod_1" },
        };
        var i = Read(json, StripeJsonContext.Default.StripeInvoice);
        i.SubscriptionId.Should().Be("sub_1Pgc6rB7WZ01zgkWNy0Cn5nw");
        i.Lines!.Data[0].Pricing!.PriceDetails!.Price.Should().Be("price_1PgafmB7WZ01zgkW6dKueIc5");
        i.Lines.Data[0].Pricing!.PriceDetails!.Product.Should().Be("prod_1");
    }

    [Fact]
    public void Price_Charge_Portal()
    {
        var p = Read(StripeFixtures.Get("price"), StripeJsonContext.Default.StripePrice);
        p.Id.Should().Be("price_1PgafmB7WZ01zgkW6dKueIc5");
        p.Recurring!.Interval.Should().Be("month");
        p.LookupKey.Should().BeNull();
        var c = Read(StripeFixtures.Get("charge"), StripeJsonContext.Default.StripeCharge);
        c.Amount.Should().Be(100);
        c.Paid.Should().BeTrue();
        c.Status.Should().Be("succeeded");
        c.Customer.Should().BeNull();
        var b = Read(StripeFixtures.Get("billing_portal.session"), StripeJsonContext.Default.StripeBillingPortalSession);
        b.Url.Should().Contain("{SESSION_SECRET}");
        b.Customer.Should().Be("cus_QXg1o8vcGmoR32");
        b.ReturnUrl.Should().Be("https://example.com/account");
        b.Livemode.Should().BeTrue();
    }

    [Fact]
    public void WebhookEndpoint_InAList()
    {
        var list = new JsonObject { ["object"] = "list", ["data"] = new JsonArray(StripeFixtures.Get("webhook_endpoint")), ["has_more"] = false, ["url"] = "/v1/webhook_endpoints" };
        var l = Read(list, StripeJsonContext.Default.StripeListStripeWebhookEndpoint);
        var w = l.Data.Single();
        w.Id.Should().Be("we_1Pgc6yB7WZ01zgkWzAudq4eU");
        w.ApiVersion.Should().BeNull();
        w.Status.Should().Be("enabled");
        w.Url.Should().Be("https://example.com/my/webhook/endpoint");
    }

    [Fact]
    public void Event()
    {
        var json = StripeFixtures.Get("event");
        var e = StripeEvent.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()));
        e.Id.Should().Be("evt_1Pgc76B7WZ01zgkWwyRHS12y");
        e.Type.Should().Be("plan.created");
        e.ApiVersion.Should().BeNull();
        e.Created.Should().Be(At(1234567890));
        e.PendingWebhooks.Should().Be(0);
        e.RequestId.Should().BeNull();
        e.RequestIdempotencyKey.Should().BeNull();
        e.DataObjectType.Should().Be("plan");
        e.PreviousAttributesJson.Should().BeNull();
        e.DataObject.GetProperty("id").GetString().Should().Be("price_1PgafmB7WZ01zgkW6dKueIc5");
    }

    [Theory]
    [InlineData("checkout.session", "checkout.session.completed")]
    [InlineData("invoice", "invoice.paid")]
    [InlineData("subscription", "customer.subscription.updated")]
    [InlineData("customer", "customer.updated")]
    [InlineData("charge", "charge.refunded")]
    public void Event_CarryingEachModelledObject(string resource, string type)
    {
        var json = StripeFixtures.Get("event");
        json["type"] = type;
        json["api_version"] = StripeApiVersion.Current;
        json["data"] = new JsonObject { ["object"] = StripeFixtures.Get(resource), ["previous_attributes"] = new JsonObject { ["status"] = "x" } };
        var e = StripeEvent.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()));
        e.Type.Should().Be(type);
        e.ApiVersion.Should().Be(StripeApiVersion.Current);
        e.PreviousAttributes!.Value.GetProperty("status").GetString().Should().Be("x");
        StripeObject read = resource switch
        {
            "checkout.session" => e.ToCheckoutSession(),
            "invoice" => e.ToInvoice(),
            "subscription" => e.ToSubscription(),
            "customer" => e.ToCustomer(),
            _ => e.ToCharge(),
        };
        read.Id.Should().Be(StripeFixtures.Get(resource)["id"]!.GetValue<string>());
        read.ExtensionData.Should().NotBeEmpty();
    }
}
