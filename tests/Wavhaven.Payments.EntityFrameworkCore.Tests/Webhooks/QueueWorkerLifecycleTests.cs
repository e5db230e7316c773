using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>The queue worker's lifecycle against attempts that never report back: workers that die or handlers that hang.</summary>
public class QueueWorkerLifecycleTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task EventThatKilledItsWorkerOnEveryAttempt_IsDeadAfterMaxAttempts_NotRunAgain(DatabaseKind kind)
    {
        // A poison event: each worker that claims it dies (out of memory, a stack overflow, a crash-looping pod) before
        // it can record anything, so every attempt ends by its lease running out. MaxAttempts (3 here) must still bound it.
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(1));
        await using (var services = StoreServices.Build(database, clock, o => o.WebhookClaimLease = TimeSpan.FromMinutes(1)))
        {
            await using (var scope = services.CreateAsyncScope())
            {
                var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
                (await queue.EnqueueAsync(StripeEvent.Parse(DurableApp.Body(stripeEvent)))).Should().BeTrue();
            }

            for (var attempt = 1; attempt <= 3; attempt++)
            {
                await using var scope = services.CreateAsyncScope();
                var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
                var claimed = await queue.ClaimNextAsync();
                claimed!.Claim.Attempt.Should().Be(attempt);
                clock.Advance(TimeSpan.FromMinutes(2)); // the worker died; its lease runs out
            }
        }

        var probe = new Probe();
        await using var survivor = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);

        var settled = await Probe.WaitForAsync(
            () => survivor.GetEventAsync(eventId),
            e => e?.State is WebhookEventState.Dead or WebhookEventState.Processed,
            "the survivor settled the event");

        probe.EventAttempts.Should().NotContainKey(eventId, "its three attempts (Stripe:WebhookQueue:MaxAttempts) were all used up");
        settled!.State.Should().Be(WebhookEventState.Dead, "after MaxAttempts attempts the event is dead and runs no more until it is replayed");
        settled.LastError.Should().NotBeNull();
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerThatHangsPastItsLease_KeepsItsClaimWhileItsWorkerLives_AndIsNotStartedAgain(DatabaseKind kind)
    {
        // A handler that never returns (a call with no timeout): its worker is alive, so its claim is renewed, and no other
        // slot or worker starts the event again at each lease, each start holding one more slot for good.
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { HangUntilCancelled = true };
        await using var app = await DurableApp.StartAsync(database, probe, options =>
        {
            DurableApp.QueuedForTests(options);
            options.WebhookQueue.MaxAttempts = 2;
            options.WebhookClaimLease = TimeSpan.FromSeconds(1.5);
        });
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        using (var response = await app.PostAsync(stripeEvent))
        {
            response.EnsureSuccessStatusCode();
        }

        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(4.5)); // three leases' worth

        probe.EventAttempts[eventId].Should().Be(1, "the running handler's claim is renewed, so the event is not taken again");
        var info = await app.GetEventAsync(eventId);
        info!.State.Should().Be(WebhookEventState.Processing);
        info.Attempts.Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)] // not SQLite, whose one writer waits for the handler's transaction (README: Running several instances)
    public async Task SlowHandlerRunningInTheWorker_DoesNotDelayTheNextEventsQueued200(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        // The handler runs until the host stops: the second answer can only come while it runs, on a machine however loaded,
        // rather than within a wall-clock bound that a busy 2-core CI runner can miss.
        var probe = new Probe { HangUntilCancelled = true };
        await using var app = await DurableApp.StartAsync(database, probe, options =>
        {
            DurableApp.QueuedForTests(options);
            options.WebhookClaimLease = TimeSpan.FromMinutes(5);
        });
        var firstEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        using (var first = await app.PostAsync(firstEvent))
        {
            first.EnsureSuccessStatusCode();
        }

        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var second = await app.PostAsync(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"))).WaitAsync(TimeSpan.FromSeconds(60));

        (await second.Content.ReadAsStringAsync()).Should().Be("queued");
        probe.EventRuns.Should().NotContainKey(firstEvent["id"]!.GetValue<string>(),
            "queued mode answers 200 while the first handler still runs, so a slow handler never holds Stripe's request open");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task QueuedRowWhosePayloadNamesAnotherEvent_IsDead_NotRunOverAndOver(DatabaseKind kind)
    {
        // A row edited by hand (a payload pasted from another event): its handlers must not run again at every lease.
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        await using (var services = StoreServices.Build(database))
        await using (var scope = services.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await queue.EnqueueAsync(StripeEvent.Parse(DurableApp.Body(stripeEvent)))).Should().BeTrue();
        }

        await using (var db = database.CreateContext())
        {
            var other = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")).ToJsonString();
            (await db.Database.ExecuteSqlAsync($"UPDATE wavhaven_webhook_events SET payload = {other} WHERE id = {eventId}")).Should().Be(1);
        }

        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, options =>
        {
            DurableApp.QueuedForTests(options);
            options.WebhookClaimLease = TimeSpan.FromMilliseconds(500);
        });

        await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State is WebhookEventState.Dead or WebhookEventState.Processed, "the row is settled, not run at every lease");
        await Task.Delay(TimeSpan.FromSeconds(1.5)); // three more leases' worth

        var info = await app.GetEventAsync(eventId);
        probe.EventAttempts.Values.Sum().Should().BeLessThanOrEqualTo(1, "the row was {0} after {1} attempts", info!.State, info.Attempts);
        info.State.Should().BeOneOf(WebhookEventState.Dead, WebhookEventState.Processed);
    }
}
