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
}
