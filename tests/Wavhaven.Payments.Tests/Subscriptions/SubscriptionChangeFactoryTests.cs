using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Subscriptions;

/// <summary>What a <see cref="SubscriptionChange"/> says about a subscription as Stripe renders it at the pinned version.</summary>
public class SubscriptionChangeFactoryTests
{
    private const long PeriodEnd = 1_900_000_000;

    /// <summary>
    /// A subscription in flexible billing mode (the default for every subscription created since 2025-09-30.clover,
    /// Checkout's included) scheduled to end at its period's end, as the customer portal leaves it: Stripe records the
    /// cancellation as <c>cancel_at</c> (the items' period end) with <c>cancel_at_period_end</c> false.
    /// </summary>
    private static JsonObject FlexibleSubscriptionCanceledInThePortal()
    {
        var subscription = StripeFixtures.Get("subscription");
        subscription["id"] = "sub_flex";
        subscription["status"] = "active";
        subscription["billing_mode"] = new JsonObject { ["type"] = "flexible", ["flexible"] = new JsonObject { ["proration_discounts"] = "included" } };
        subscription["cancel_at_period_end"] = false;
        subscription["cancel_at"] = PeriodEnd;
        subscription["canceled_at"] = PeriodEnd - (10 * 86_400);
        subscription["ended_at"] = null;
        subscription["metadata"] = new JsonObject { ["wavhaven_user_id"] = "user-1" };
        var item = subscription["items"]!["data"]![0]!.AsObject();
        item["price"]!["id"] = "price_pro_month";
        item["current_period_start"] = PeriodEnd - (30 * 86_400);
        item["current_period_end"] = PeriodEnd;
        item["subscription"] = "sub_flex";
        return subscription;
    }

    private static StripeEvent Event(string type, JsonObject dataObject) =>
        StripeEvent.Parse(Encoding.UTF8.GetBytes(new JsonObject
        {
            ["id"] = "evt_sub_1",
            ["object"] = "event",
            ["type"] = type,
            ["api_version"] = "2026-10-28.endive",
            ["created"] = PeriodEnd - (10 * 86_400),
            ["data"] = new JsonObject { ["object"] = dataObject, ["previous_attributes"] = new JsonObject { ["cancel_at"] = null, ["canceled_at"] = null } },
        }.ToJsonString()));

    [Fact]
    public async Task FlexibleSubscriptionSetToEndAtItsPeriodEnd_SaysItCancelsAtPeriodEnd()
    {
        var handler = new StubStripeHandler();
        var subscription = FlexibleSubscriptionCanceledInThePortal();
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_flex", subscription.ToJsonString());
        await using var services = TestServices.Build(handler);
        var factory = services.GetRequiredService<SubscriptionChangeFactory>();

        var change = await factory.CreateAsync(Event("customer.subscription.updated", subscription), SubscriptionChangeReason.Updated, CancellationToken.None);

        change!.CurrentPeriodEnd.Should().Be(DateTimeOffset.FromUnixTimeSeconds(PeriodEnd));
        change.CancelAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(PeriodEnd));
        change.CancelAtPeriodEnd.Should().BeTrue(
            "the subscription ends when its current period ends and will not renew: the README's handler would otherwise record RenewsAt = "
            + "the period end for a user who has cancelled");
    }

    [Fact]
    public async Task SubscriptionSetToEndAfterItsCurrentPeriod_DoesNotSayItCancelsAtPeriodEnd()
    {
        var handler = new StubStripeHandler();
        var subscription = FlexibleSubscriptionCanceledInThePortal();
        subscription["cancel_at"] = PeriodEnd + (60 * 86_400); // ends two renewals later
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_flex", subscription.ToJsonString());
        await using var services = TestServices.Build(handler);
        var factory = services.GetRequiredService<SubscriptionChangeFactory>();

        var change = await factory.CreateAsync(Event("customer.subscription.updated", subscription), SubscriptionChangeReason.Updated, CancellationToken.None);

        change!.CancelAtPeriodEnd.Should().BeFalse("the current period renews; the subscription ends only at cancel_at");
    }

    private static JsonObject? Metadata(string? userId, string? buyer)
    {
        if (userId is null && buyer is null)
        {
            return null;
        }

        var metadata = new JsonObject();
        if (userId is not null)
        {
            metadata["wavhaven_user_id"] = userId;
        }

        if (buyer is not null)
        {
            metadata["wavhaven_buyer"] = buyer;
        }

        return metadata;
    }

    /// <summary>
    /// A guest's subscription names the guest's order or cart id as its user, which may be a registered user's id too:
    /// <see cref="SubscriptionChange.IsGuest"/> tells them apart, read from the metadata that named the user (the
    /// subscription's, else the invoice's snapshot of it, else the customer's), so that the two describe one buyer.
    /// </summary>
    [Theory]
    [InlineData("42", "guest", null, null, null, null, "42", true)]
    [InlineData("42", "registered", null, null, null, null, "42", false)]
    [InlineData(null, null, "42", "guest", null, null, "42", true)]
    [InlineData("user-7", null, "42", "guest", null, null, "user-7", false)] // the app moved it to an account: the subscription's own metadata wins
    [InlineData(null, null, null, null, "user-7", null, "user-7", false)] // made outside Checkout for a registered user's customer
    [InlineData(null, null, null, null, "42", "guest", "42", true)]
    [InlineData(null, null, null, null, null, null, null, false)] // none of the app's users
    public async Task IsGuest_IsReadBesideTheUserId(
        string? subscriptionUser, string? subscriptionBuyer, string? invoiceUser, string? invoiceBuyer, string? customerUser, string? customerBuyer,
        string? expectedUserId, bool expectedGuest)
    {
        var handler = new StubStripeHandler();
        var subscription = FlexibleSubscriptionCanceledInThePortal();
        subscription["customer"] = "cus_buyer";
        subscription["metadata"] = Metadata(subscriptionUser, subscriptionBuyer) ?? new JsonObject();
        var customer = StripeFixtures.Get("customer");
        customer["id"] = "cus_buyer";
        customer["metadata"] = Metadata(customerUser, customerBuyer) ?? new JsonObject();
        var invoice = StripeFixtures.Get("invoice");
        invoice["parent"] = new JsonObject
        {
            ["type"] = "subscription_details",
            ["subscription_details"] = new JsonObject { ["subscription"] = "sub_flex", ["metadata"] = Metadata(invoiceUser, invoiceBuyer) ?? new JsonObject() },
        };
        handler.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_flex", subscription.ToJsonString());
        handler.OnJson(HttpMethod.Get, "/v1/customers/cus_buyer", customer.ToJsonString());
        await using var services = TestServices.Build(handler);
        var factory = services.GetRequiredService<SubscriptionChangeFactory>();

        var change = await factory.CreateAsync(Event("invoice.paid", invoice), SubscriptionChangeReason.InvoicePaid, CancellationToken.None);

        change!.UserId.Should().Be(expectedUserId);
        change.IsGuest.Should().Be(expectedGuest);
    }
}
