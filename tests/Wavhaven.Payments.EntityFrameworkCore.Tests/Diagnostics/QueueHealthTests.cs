using System.Text;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Diagnostics;

/// <summary>The health check reads the durable queue: dead events and an overdue backlog are reported, by id.</summary>
public class QueueHealthTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task DeadEventsAndAnOverdueBacklog_AreDegraded_UntilTheyAreHandled(DatabaseKind kind)
    {
        await using var app = await HealthApp.StartAsync(kind);
        var (clock, services, sut) = (app.Clock, app.Services, app.Check);
        var waiting = Parse(TestEvents.Event("charge.refunded", Payments.Tests.Support.StripeFixtures.Get("charge")));
        var doomed = Parse(TestEvents.Event("invoice.paid", Payments.Tests.Support.StripeFixtures.Get("invoice")));
        await using (var scope = services.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await queue.EnqueueAsync(doomed)).Should().BeTrue();
            var claimed = await queue.ClaimNextAsync();
            claimed!.Id.Should().Be(doomed.Id);
            await queue.MarkDeadAsync(doomed.Id, "InvalidOperationException: the ledger is down");
            (await queue.EnqueueAsync(waiting)).Should().BeTrue();
        }

        var fresh = await CheckAsync(sut);
        clock.Advance(TimeSpan.FromMinutes(6));
        var later = await CheckAsync(sut);

        fresh.Status.Should().Be(HealthStatus.Degraded);
        fresh.Description.Should().Contain("1 dead webhook event(s)").And.Contain(doomed.Id).And.NotContain("backlog");
        later.Description.Should().Contain("backlog").And.Contain("1 event(s) due for more than 5 minutes");
        later.Data["overdue_events"].Should().Be(1);

        await using (var scope = services.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await queue.ReplayAsync(doomed.Id)).Should().BeTrue();
            foreach (var _ in new[] { 1, 2 })
            {
                var next = await queue.ClaimNextAsync();
                await queue.MarkProcessedAsync(next!.Id);
            }
        }

        (await CheckAsync(sut)).Status.Should().Be(HealthStatus.Healthy);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnInlineDeliveryThatFailed_WaitsForStripe_AndIsNoBacklog(DatabaseKind kind)
    {
        await using var app = await HealthApp.StartAsync(kind);
        var (clock, services, sut) = (app.Clock, app.Services, app.Check);
        await using (var scope = services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await store.TryClaimAsync("evt_inline_failed", "charge.refunded", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
            await store.MarkFailedAsync("evt_inline_failed", "InvalidOperationException: the ledger is down");
        }

        clock.Advance(TimeSpan.FromMinutes(30));
        var result = await CheckAsync(sut);

        result.Status.Should().Be(HealthStatus.Healthy, "Stripe redelivers it; no queue worker is behind");
        result.Data["queued_events"].Should().Be(0);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnInlineDeliveryThatFailed_PastStripesThreeDaysOfRedeliveries_IsReported_ForAReplay(DatabaseKind kind)
    {
        // Inline processing (the default): an invoice.paid whose handler failed on every redelivery. Stripe stops after three
        // days, and nothing will run it again but a replay ("it works in inline mode too, for an event whose redeliveries
        // Stripe has given up on"). Events never become dead in inline mode, so the health check is the operator's only
        // way to hear of it.
        await using var app = await HealthApp.StartAsync(kind);
        var eventId = await FailInlineDeliveriesAsync(app, deliveries: 8, apart: TimeSpan.FromHours(9));

        app.Clock.Advance(TimeSpan.FromHours(12)); // 3.5 days after the event: Stripe's last redelivery has come and gone
        var result = await CheckAsync(app.Check);

        result.Status.Should().Be(HealthStatus.Degraded, "Stripe has given up on the event, and only a replay will ever run it");
        result.Description.Should().Contain(eventId);
    }

    /// <summary>
    /// The operator's night, inline: a handler bug that takes its process down (a stack overflow, an out-of-memory kill) on
    /// every delivery of one event. Each delivery leaves its claim in progress; the next, once the lease has run out, takes
    /// it over and dies the same way. Stripe stops after three days, and the last claim stays in progress for good: only a
    /// replay (by the id Stripe's Dashboard shows as failing) can run it, as for a delivery whose handler threw.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnInlineDeliveryWhoseInstanceDied_PastStripesRedeliveries_CanBeReplayed(DatabaseKind kind)
    {
        await using var app = await HealthApp.StartAsync(kind);
        var eventId = await CrashInlineDeliveriesAsync(app, deliveries: 8, apart: TimeSpan.FromHours(9));
        app.Clock.Advance(TimeSpan.FromHours(12));

        await using var scope = app.Services.CreateAsyncScope();
        var admin = scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>();
        (await admin.GetAsync(eventId))!.State.Should().Be(WebhookEventState.Processing, "its last delivery's process died holding the claim");
        (await admin.ReplayAsync(eventId)).Should().BeTrue("its claim's lease ran out days ago: nobody runs it, and Stripe never will again");

        var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        var replayed = await queue.ClaimNextAsync();
        replayed!.Id.Should().Be(eventId);
        replayed.Claim.Attempt.Should().Be(1, "a replay gives the event a fresh set of attempts");
    }

    /// <summary>
    /// In a sandbox Stripe retries a delivery three times over a few hours, not for three days: a test-mode app whose
    /// handler failed heard of the event only three days later. A day after the event it is given up on in test mode;
    /// in live mode Stripe is still redelivering it then.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, "sk_test_", HealthStatus.Degraded)]
    [InlineData(DatabaseKind.PostgreSql, "sk_test_", HealthStatus.Degraded)]
    [InlineData(DatabaseKind.Sqlite, "sk_live_", HealthStatus.Healthy)]
    public async Task AnInlineDeliveryThatFailed_ADayAndAHalfAgo_IsGivenUpInTestModeOnly(DatabaseKind kind, string keyPrefix, HealthStatus expected)
    {
        await using var app = await HealthApp.StartAsync(kind, keyPrefix + "health0000000000000000000000");
        await FailInlineDeliveriesAsync(app, deliveries: 4, apart: TimeSpan.FromHours(1), livemode: keyPrefix == "sk_live_");

        app.Clock.Advance(TimeSpan.FromHours(32)); // a day and a half after the event
        var result = await CheckAsync(app.Check);

        result.Status.Should().Be(expected);
        result.Data["given_up_events"].Should().Be(expected == HealthStatus.Degraded ? 1 : 0);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnInlineDeliveryStripeGaveUpOn_IsReported_BehindMoreThanAThousandNewerFailures(DatabaseKind kind)
    {
        // A handler that fails for days on a busy store: the events Stripe has given up on are the ones updated longest
        // ago, and a sample of the most recently updated failures (Stripe still redelivering those) never reaches them.
        await using var app = await HealthApp.StartAsync(kind);
        var (clock, services, sut) = (app.Clock, app.Services, app.Check);
        var stripeEvent = TestEvents.Event("invoice.paid", Payments.Tests.Support.StripeFixtures.Get("invoice"));
        stripeEvent["created"] = clock.GetUtcNow().ToUnixTimeSeconds();
        var givenUpId = stripeEvent["id"]!.GetValue<string>();
        await using (var scope = services.CreateAsyncScope())
        {
            var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await store.TryClaimAsync(givenUpId, "invoice.paid", Encoding.UTF8.GetBytes(stripeEvent.ToJsonString()))).Status.Should().Be(WebhookClaimStatus.Claimed);
            await store.MarkFailedAsync(givenUpId, "InvalidOperationException: the ledger is down");

            clock.Advance(TimeSpan.FromDays(3.5));
            for (var i = 0; i < 1_000; i++)
            {
                var id = "evt_recent_failure_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
                (await store.TryClaimAsync(id, "charge.refunded", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
                await store.MarkFailedAsync(id, "InvalidOperationException: the ledger is down");
            }
        }

        var result = await CheckAsync(sut);

        result.Status.Should().Be(HealthStatus.Degraded, "Stripe has given up on {0}, and only a replay will ever run it", givenUpId);
        result.Description.Should().Contain(givenUpId);
        result.Data["given_up_events"].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnOverdueBacklog_IsReported_BehindMoreThanAThousandNewerEvents(DatabaseKind kind)
    {
        await using var app = await HealthApp.StartAsync(kind);
        var (clock, services, sut) = (app.Clock, app.Services, app.Check);
        StripeEvent Refund() => Parse(TestEvents.Event("charge.refunded", Payments.Tests.Support.StripeFixtures.Get("charge")));
        await using (var scope = services.CreateAsyncScope())
        {
            // Workers that stopped: three events wait from the start, then 1,100 more arrive in the last minutes.
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            for (var i = 0; i < 3; i++)
            {
                (await queue.EnqueueAsync(Refund())).Should().BeTrue();
            }

            clock.Advance(TimeSpan.FromMinutes(8));
            for (var i = 0; i < 1_100; i++)
            {
                (await queue.EnqueueAsync(Refund())).Should().BeTrue();
            }

            var backlog = await queue.GetBacklogAsync(clock.GetUtcNow() - TimeSpan.FromMinutes(5));
            (backlog.Queued, backlog.Overdue).Should().Be((1_103, 3));
            backlog.OldestDueAt.Should().BeCloseTo(clock.GetUtcNow() - TimeSpan.FromMinutes(8), TimeSpan.FromMilliseconds(1), "PostgreSQL keeps microseconds");
        }

        var result = await CheckAsync(sut);

        result.Status.Should().Be(HealthStatus.Degraded);
        result.Description.Should().Contain("3 event(s) due for more than 5 minutes (the oldest for 8 minutes)");
        result.Data["queued_events"].Should().Be(1_103);
        result.Data["overdue_events"].Should().Be(3);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AClaimWhoseLeaseRanOut_IsBacklog_DueSinceItsLeaseEnded(DatabaseKind kind)
    {
        await using var app = await HealthApp.StartAsync(kind);
        var (clock, services) = (app.Clock, app.Services);
        var lease = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<StripePaymentsOptions>>().Value.WebhookClaimLease;
        var claimedAt = clock.GetUtcNow();
        await using var scope = services.CreateAsyncScope();
        var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        (await queue.EnqueueAsync(Parse(TestEvents.Event("charge.refunded", Payments.Tests.Support.StripeFixtures.Get("charge"))))).Should().BeTrue();
        (await queue.ClaimNextAsync()).Should().NotBeNull(); // a worker that then dies

        clock.Advance(lease + TimeSpan.FromMinutes(6));
        var backlog = await queue.GetBacklogAsync(clock.GetUtcNow() - TimeSpan.FromMinutes(5));

        (backlog.Queued, backlog.Overdue).Should().Be((1, 1));
        backlog.OldestDueAt.Should().BeCloseTo(claimedAt + lease, TimeSpan.FromMilliseconds(1));
    }

    private static StripeEvent Parse(System.Text.Json.Nodes.JsonObject stripeEvent) => StripeEvent.Parse(Encoding.UTF8.GetBytes(stripeEvent.ToJsonString()));

    /// <summary>
    /// An <c>invoice.paid</c> created now, delivered inline <paramref name="deliveries"/> times <paramref name="apart"/>, its
    /// handler failing every time; returns its id.
    /// </summary>
    private static async Task<string> FailInlineDeliveriesAsync(HealthApp app, int deliveries, TimeSpan apart, bool? livemode = null)
    {
        var stripeEvent = TestEvents.Event("invoice.paid", Payments.Tests.Support.StripeFixtures.Get("invoice"));
        stripeEvent["created"] = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        if (livemode is { } live)
        {
            stripeEvent["livemode"] = live;
        }

        var eventId = stripeEvent["id"]!.GetValue<string>();
        var payload = Encoding.UTF8.GetBytes(stripeEvent.ToJsonString());
        await using var scope = app.Services.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        for (var delivery = 0; delivery < deliveries; delivery++)
        {
            (await store.TryClaimAsync(eventId, "invoice.paid", payload)).Status.Should().Be(WebhookClaimStatus.Claimed);
            await store.MarkFailedAsync(eventId, "InvalidOperationException: the ledger is down");
            app.Clock.Advance(apart);
        }

        return eventId;
    }

    /// <summary>
    /// An <c>invoice.paid</c> created now, delivered inline <paramref name="deliveries"/> times <paramref name="apart"/> (more
    /// than a lease), each delivery's process dying in the handler: its claim is taken and never marked; returns its id.
    /// </summary>
    private static async Task<string> CrashInlineDeliveriesAsync(HealthApp app, int deliveries, TimeSpan apart)
    {
        var stripeEvent = TestEvents.Event("invoice.paid", Payments.Tests.Support.StripeFixtures.Get("invoice"));
        stripeEvent["created"] = app.Clock.GetUtcNow().ToUnixTimeSeconds();
        var eventId = stripeEvent["id"]!.GetValue<string>();
        var payload = Encoding.UTF8.GetBytes(stripeEvent.ToJsonString());
        for (var delivery = 0; delivery < deliveries; delivery++)
        {
            await using var scope = app.Services.CreateAsyncScope(); // a process of its own, which dies with its claim
            (await scope.ServiceProvider.GetRequiredService<IWebhookEventStore>().TryClaimAsync(eventId, "invoice.paid", payload))
                .Status.Should().Be(WebhookClaimStatus.Claimed);
            app.Clock.Advance(apart);
        }

        return eventId;
    }

    private static Task<HealthCheckResult> CheckAsync(StripePaymentsHealthCheck check) =>
        check.CheckHealthAsync(new HealthCheckContext { Registration = new HealthCheckRegistration("stripe", check, HealthStatus.Unhealthy, null) });

    /// <summary>A database, the library on it with a fake clock and a Stripe without endpoints, and the health check.</summary>
    private sealed class HealthApp(TestDatabase database, FakeTimeProvider clock, ServiceProvider services) : IAsyncDisposable
    {
        public FakeTimeProvider Clock => clock;

        public ServiceProvider Services => services;

        public StripePaymentsHealthCheck Check { get; } = new(services, clock);

        public static async Task<HealthApp> StartAsync(DatabaseKind kind, string? secretKey = null)
        {
            var database = await TestDatabase.CreateAsync(kind);
            var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
            return new HealthApp(database, clock, StoreServices.Build(database, clock, o =>
            {
                o.WebhookSecrets.Add("whsec_health");
                if (secretKey is not null)
                {
                    o.SecretKey = secretKey;
                    o.Plans.Clear(); // the test catalog has no live prices for every plan; the check reads none
                }
            }, s => s.AddSingleton<IStripeClient, NoEndpointsStripe>()));
        }

        public async ValueTask DisposeAsync()
        {
            await services.DisposeAsync();
            await database.DisposeAsync();
        }
    }

    /// <summary>Stripe with no webhook endpoints, so that only the queue decides the status.</summary>
    private sealed class NoEndpointsStripe : IStripeClient
    {
        public Task<T> SendAsync<T>(HttpMethod method, string path, IStripeParameters? parameters, JsonTypeInfo<T> responseType, StripeRequestOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult((T)(object)new StripeList<StripeWebhookEndpoint>());
    }
}
