using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>
/// The README's <c>ProSubscriptionHandler</c> (section "Subscriptions"), its rule kept line for line, fed over real HTTP
/// the events a user who cancels and subscribes again produces: the README says the rule keeps the account on the
/// subscription it should follow whatever the order of the first subscription's late events.
/// </summary>
public class ReadmeSubscriptionHandlerTests
{
    private const long Day = 86_400;
    private const long Now = 1_900_000_000;

    /// <summary>The README's <c>Account</c> row, kept in memory.</summary>
    public sealed class Account
    {
        public string? UserId { get; set; }

        public string? SubscriptionId { get; set; }

        public DateTimeOffset? SubscriptionCreated { get; set; }

        public string? Plan { get; set; }

        public PriceInterval? PlanInterval { get; set; }

        public DateTimeOffset? RenewsAt { get; set; }
    }

    public sealed class Accounts
    {
        public ConcurrentDictionary<string, Account> ByUserId { get; } = new();
    }

    /// <summary>The README's handler, with <c>db.Accounts.SingleOrDefaultAsync(…)</c> as <c>SingleOrDefault</c> over the in-memory rows.</summary>
    public sealed class ReadmeProSubscriptionHandler(Accounts accounts) : ISubscriptionHandler
    {
        public Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
        {
            if (change.IsGuest || change.UserId is null
                || accounts.ByUserId.Values.SingleOrDefault(a => a.UserId == change.UserId) is not { } account)
            {
                return Task.CompletedTask; // a guest's (its user id is an order's or cart's), or not one of the app's users
            }

            if (account.SubscriptionId != change.SubscriptionId
                && !(change.IsActive && (account.Plan is null || change.Subscription.Created > account.SubscriptionCreated)))
            {
                return Task.CompletedTask; // a subscription the user has since replaced (or one that never started): not the account's state
            }

            account.SubscriptionId = change.SubscriptionId;
            account.SubscriptionCreated = change.Subscription.Created;
            account.Plan = change.IsActive ? change.Plan?.Id : null;
            account.PlanInterval = change.Price?.Interval;
            account.RenewsAt = change.CancelAtPeriodEnd ? null : change.CurrentPeriodEnd;
            return Task.CompletedTask;
        }
    }

    private static JsonObject Subscription(string id, string status, long created, bool cancelAtPeriodEnd = false, long periodEnd = Now + (20 * Day))
    {
        var subscription = TestEvents.Subscription(id, "price_pro_month", status, cancelAtPeriodEnd, periodEnd, userId: "user-1");
        subscription["created"] = created;
        subscription["start_date"] = created;
        subscription["cancel_at"] = cancelAtPeriodEnd ? periodEnd : null;
        subscription["ended_at"] = status == "canceled" ? periodEnd : null;
        return subscription;
    }

    /// <summary>
    /// The user cancels the first subscription (it stays active, set to end at its period's end) and subscribes again. The
    /// first one's cancellation event reaches the app late (its first delivery failed: Stripe retries it an hour later,
    /// or the queue's RetryDelay). The README's rule lets it take the account over, since the first subscription is still
    /// active; when it ends, its <c>customer.subscription.deleted</c> is the followed subscription's, and the account loses
    /// Pro while the second subscription is active and paid for.
    /// </summary>
    [Fact]
    public async Task UserWhoCancelsAndSubscribesAgain_KeepsPro_WhenTheFirstSubscriptionsCancellationArrivesLate()
    {
        var accounts = new Accounts();
        accounts.ByUserId["user-1"] = new Account { UserId = "user-1" };
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.AddSubscriptionHandler<ReadmeProSubscriptionHandler>(),
            services: services => services.AddSingleton(accounts));
        var first = Subscription("sub_first", "active", created: Now - (10 * Day), cancelAtPeriodEnd: true);
        var second = Subscription("sub_second", "active", created: Now, periodEnd: Now + (30 * Day));
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_first", _ => StubStripeHandler.Json(first.ToJsonString()));
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_second", _ => StubStripeHandler.Json(second.ToJsonString()));

        // The first subscription, as the app recorded it before the user cancelled.
        using var firstCreated = await app.PostAsync(TestEvents.Event("customer.subscription.created", Subscription("sub_first", "active", created: Now - (10 * Day))));
        // The user subscribes again: the account follows the second subscription.
        using var secondCreated = await app.PostAsync(TestEvents.Event("customer.subscription.created", second));
        accounts.ByUserId["user-1"].SubscriptionId.Should().Be("sub_second");

        // The first subscription's cancellation, delivered late.
        using var lateCancellation = await app.PostAsync(TestEvents.Event("customer.subscription.updated", first,
            previousAttributes: new JsonObject { ["cancel_at_period_end"] = false, ["cancel_at"] = null }));
        // Its period ends: Stripe ends it.
        first = Subscription("sub_first", "canceled", created: Now - (10 * Day), cancelAtPeriodEnd: true);
        using var firstEnded = await app.PostAsync(TestEvents.Event("customer.subscription.deleted", first));

        new[] { firstCreated, secondCreated, lateCancellation, firstEnded }.Should().OnlyContain(response => response.StatusCode == HttpStatusCode.OK);
        var account = accounts.ByUserId["user-1"];
        account.Should().BeEquivalentTo(
            new { SubscriptionId = "sub_second", Plan = "pro" },
            options => options.ExcludingMissingMembers(),
            "the second subscription is active and paid for; the README says a change of another subscription takes over only when "
            + "it should, yet the first one's late event took the account over while it was still active, and its end then revoked Pro");
    }

    /// <summary>
    /// A subscription made in the Dashboard for a customer the app never created (no routing metadata on either):
    /// <see cref="SubscriptionChange.UserId"/> is null, and the README's handler throws on it (<c>SingleAsync</c> finds no
    /// account), so every delivery is answered 500 until the event is dead and the health check degraded.
    /// </summary>
    [Fact]
    public async Task SubscriptionOfACustomerTheAppDoesNotKnow_IsAnswered200()
    {
        var accounts = new Accounts();
        accounts.ByUserId["user-1"] = new Account { UserId = "user-1" };
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.AddSubscriptionHandler<ReadmeProSubscriptionHandler>(),
            services: services => services.AddSingleton(accounts));
        var dashboardMade = Subscription("sub_dashboard", "active", created: Now);
        dashboardMade["metadata"] = new JsonObject();
        dashboardMade["customer"] = "cus_dashboard";
        var customer = StripeFixtures.Get("customer");
        customer["id"] = "cus_dashboard";
        customer["metadata"] = new JsonObject();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_dashboard", dashboardMade.ToJsonString());
        app.Stripe.OnJson(HttpMethod.Get, "/v1/customers/cus_dashboard", customer.ToJsonString());

        using var response = await app.PostAsync(TestEvents.Event("customer.subscription.created", dashboardMade));

        response.StatusCode.Should().Be(HttpStatusCode.OK, "a subscription that is none of the app's users' is not the app's to fail on");
    }

    /// <summary>
    /// A guest subscribes with the cart id "user-1" (<c>CheckoutBuyer.Guest(email, cartId)</c>), the id of a registered user
    /// who is on Pro. The guest's subscription is newer and active, so without <see cref="SubscriptionChange.IsGuest"/> the
    /// README's rule let it take the account over, and its end revoked the registered user's Pro.
    /// </summary>
    [Fact]
    public async Task GuestsSubscription_WhoseUserIdIsARegisteredAccountsId_LeavesThatAccountUntouched()
    {
        var accounts = new Accounts();
        accounts.ByUserId["user-1"] = new Account { UserId = "user-1" };
        await using var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.AddSubscriptionHandler<ReadmeProSubscriptionHandler>(),
            services: services => services.AddSingleton(accounts));
        var own = Subscription("sub_own", "active", created: Now - (10 * Day));
        JsonObject Guests(string status)
        {
            var subscription = Subscription("sub_guest", status, created: Now, periodEnd: Now + (30 * Day));
            subscription["metadata"]!["wavhaven_buyer"] = "guest";
            return subscription;
        }

        var guests = Guests("active");
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_own", _ => StubStripeHandler.Json(own.ToJsonString()));
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_guest", _ => StubStripeHandler.Json(guests.ToJsonString()));
        using var ownCreated = await app.PostAsync(TestEvents.Event("customer.subscription.created", own));
        var before = new { accounts.ByUserId["user-1"].SubscriptionId, accounts.ByUserId["user-1"].Plan, accounts.ByUserId["user-1"].RenewsAt };

        using var guestCreated = await app.PostAsync(TestEvents.Event("customer.subscription.created", guests));
        using var guestPaid = await app.PostAsync(TestEvents.Event("invoice.paid", TestEvents.Invoice("in_guest", "sub_guest")));
        guests = Guests("canceled");
        using var guestEnded = await app.PostAsync(TestEvents.Event("customer.subscription.deleted", guests));

        new[] { ownCreated, guestCreated, guestPaid, guestEnded }.Should().OnlyContain(response => response.StatusCode == HttpStatusCode.OK);
        before.Should().BeEquivalentTo(new { SubscriptionId = "sub_own", Plan = "pro" }, options => options.ExcludingMissingMembers());
        accounts.ByUserId["user-1"].Should().BeEquivalentTo(before, options => options.ExcludingMissingMembers(),
            "a guest's cart id that happens to equal a registered user's id must neither grant nor revoke that user's plan");
    }
}
