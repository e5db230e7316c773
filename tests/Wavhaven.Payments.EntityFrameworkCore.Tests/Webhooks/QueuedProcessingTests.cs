using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>Queued processing over real HTTP, on SQLite and on PostgreSQL: answer at once, retry, dead-letter, replay.</summary>
public class QueuedProcessingTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task SlowHandler_DoesNotDelayThe200_AndRunsAfterwards(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { EventDelay = TimeSpan.FromSeconds(5) };
        await using var app = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        var clock = Stopwatch.StartNew();
        using var response = await app.PostAsync(stripeEvent);
        var answeredAfter = clock.Elapsed;

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("queued");
        answeredAfter.Should().BeLessThan(TimeSpan.FromSeconds(2.5), "the 200 must not wait for a handler that takes 5 s");
        probe.EventRuns.Should().NotContainKey(eventId, "the handler was still sleeping when the 200 came");

        await Probe.WaitUntilAsync(() => probe.EventRuns.ContainsKey(eventId), "the queued handler ran", TimeSpan.FromSeconds(20));
        var info = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the event is marked processed");
        info!.Attempts.Should().Be(1);
        info.ProcessedAt.Should().NotBeNull();
        probe.EventRuns[eventId].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task DuplicateDelivery_OfAQueuedEvent_IsRecognised_AndRunsOnce(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var body = DurableApp.Body(TestEvents.Event("charge.refunded", StripeFixtures.Get("charge")));

        using var first = await app.PostAsync(body);
        using var second = await app.PostAsync(body);

        (await first.Content.ReadAsStringAsync()).Should().Be("queued");
        (await second.Content.ReadAsStringAsync()).Should().Be("duplicate");
        second.StatusCode.Should().Be(HttpStatusCode.OK);
        await Probe.WaitUntilAsync(() => probe.EventRuns.Count == 1, "the handler ran");
        using var third = await app.PostAsync(body);
        (await third.Content.ReadAsStringAsync()).Should().Be("duplicate");
        probe.EventRuns.Values.Should().Equal(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerThatFailsTwiceThenSucceeds_IsProcessedOnItsThirdAttempt(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        probe.FailuresLeft[eventId] = 2;

        using var response = await app.PostAsync(stripeEvent);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var info = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the event is processed");
        info!.Attempts.Should().Be(3);
        info.LastError.Should().Contain("The audit log is down");
        probe.EventAttempts[eventId].Should().Be(3);
        probe.EventRuns[eventId].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task RoundsSpentWaitingForAPurchaseHeldElsewhere_DoNotUseUpTheEventsAttempts(DatabaseKind kind)
    {
        // The success page holds the purchase, then gives up on it. The worker retries the event every 50 ms meanwhile;
        // then its handler fails once, which three attempts allow. (The holder lets go by a failure mark, not a short
        // lease: a lease of a second, which the event's claims would share, runs out under a loaded CI machine's handler.)
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        await using var holder = app.Services.CreateAsyncScope();
        var store = holder.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        (await store.TryClaimAsync("checkout.session:cs_test_wait", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);

        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_wait"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        probe.FailuresLeft[eventId] = 1;
        using var response = await app.PostAsync(stripeEvent);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.LastError is not null, "the worker has found the purchase held");
        await Task.Delay(300); // several more rounds
        await store.MarkFailedAsync("checkout.session:cs_test_wait", "the success page gave up");

        var settled = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State is WebhookEventState.Processed or WebhookEventState.Dead, "the event is settled");

        settled!.State.Should().Be(WebhookEventState.Processed, $"only one attempt failed (attempts: {settled.Attempts})");
        settled.Attempts.Should().Be(2, "the rounds spent waiting for the purchase were not attempts");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task EventThatFailedInline_IsHandedToTheWorker_WhenItsRedeliveryReachesAnAppThatQueues(DatabaseKind kind)
    {
        // The app switched to queued processing (or, in a rolling deploy, some instances have): Stripe's redelivery of an
        // event that failed inline must not be answered "duplicate" while nothing will ever run it.
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        var inline = new Probe();
        inline.AlwaysFail[eventId] = true;
        await using (var app = await DurableApp.StartAsync(database, inline))
        {
            using var failed = await app.PostAsync(stripeEvent);
            failed.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        }

        var queued = new Probe();
        await using var restarted = await DurableApp.StartAsync(database, queued, DurableApp.QueuedForTests);
        using var redelivery = await restarted.PostAsync(stripeEvent);
        using var again = await restarted.PostAsync(stripeEvent);

        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await Probe.WaitForAsync(() => restarted.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the redelivered event is processed"))!
            .State.Should().Be(WebhookEventState.Processed);
        queued.EventAttempts[eventId].Should().Be(1, "the second redelivery found it queued already: a duplicate");
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerThatAlwaysFails_IsDeadAfterMaxAttempts_AndAReplayAfterTheFixProcessesIt(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        probe.AlwaysFail[eventId] = true;

        using var response = await app.PostAsync(stripeEvent);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var dead = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Dead, "the event is dead");
        dead!.Attempts.Should().Be(3, "Stripe:WebhookQueue:MaxAttempts is 3");
        dead.LastError.Should().Contain("down for good");
        dead.NextAttemptAt.Should().BeNull();
        probe.EventAttempts[eventId].Should().Be(3);
        probe.EventRuns.Should().BeEmpty();

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>();
            (await admin.ListAsync(WebhookEventState.Dead)).Select(e => e.Id).Should().Equal(eventId);

            probe.AlwaysFail.TryRemove(eventId, out _);
            (await admin.ReplayAsync(eventId)).Should().BeTrue();
        }

        var processed = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the replayed event is processed");
        processed!.Attempts.Should().Be(1, "a replay starts a fresh set of attempts");
        probe.EventRuns[eventId].Should().Be(1);

        await using (var scope = app.Services.CreateAsyncScope())
        {
            var admin = scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>();
            (await admin.ReplayAsync(eventId)).Should().BeFalse("a processed event is not replayed");
            (await admin.ReplayAsync("evt_unknown")).Should().BeFalse();
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task WorkerThatDiesAfterClaiming_LeavesALease_AnotherInstanceFinishesTheEventOnceItRunsOut(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        // The first instance stores the event and its worker claims it; then the process dies: nothing
        // completes, fails or releases the claim. (A killed process cannot be simulated in-process, so the
        // first worker's claim is taken through the store, exactly as the worker takes it.)
        await using (var services = StoreServices.Build(database, options: o => o.WebhookClaimLease = TimeSpan.FromSeconds(1.5)))
        await using (var scope = services.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            (await queue.EnqueueAsync(StripeEvent.Parse(DurableApp.Body(stripeEvent)))).Should().BeTrue();
            var claimed = await queue.ClaimNextAsync();
            claimed!.Id.Should().Be(eventId);
        }

        var probe = new Probe();
        await using var survivor = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var leased = await survivor.GetEventAsync(eventId);
        leased!.State.Should().Be(WebhookEventState.Processing, "the dead worker's lease has not run out yet");

        var info = await Probe.WaitForAsync(() => survivor.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the survivor finished the event");
        info!.Attempts.Should().Be(2);
        probe.EventRuns[eventId].Should().Be(1);
        probe.EventAttempts[eventId].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task InstanceStoppedMidEvent_HandsTheEventBack_AndAnotherInstanceFinishesItOnce(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        var stopping = new Probe { HangUntilCancelled = true };
        var first = await DurableApp.StartAsync(database, stopping, DurableApp.QueuedForTests);
        using (var response = await first.PostAsync(stripeEvent))
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        (await stopping.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(20))).Should().Be(eventId);
        await first.DisposeAsync(); // a deploy stops the instance while its handler runs

        var probe = new Probe();
        await using var second = await DurableApp.StartAsync(database, probe, DurableApp.QueuedForTests);
        var info = await Probe.WaitForAsync(() => second.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the second instance finished the event");

        info!.Attempts.Should().Be(2);
        stopping.EventRuns.Should().BeEmpty();
        probe.EventRuns[eventId].Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Queued)]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Inline)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Queued)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Inline)]
    public async Task RestartedApp_KeepsTheEventLog_SoARedeliveryIsADuplicate(DatabaseKind kind, WebhookProcessingMode mode)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var body = DurableApp.Body(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_restart")));
        var eventId = StripeEvent.Parse(body).Id;
        Action<StripePaymentsOptions> options = mode == WebhookProcessingMode.Queued ? DurableApp.QueuedForTests : _ => { };

        var before = new Probe();
        await using (var app = await DurableApp.StartAsync(database, before, options))
        {
            using var response = await app.PostAsync(body);
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the event is processed");
        }

        var after = new Probe();
        await using var restarted = await DurableApp.StartAsync(database, after, options);
        using var redelivery = await restarted.PostAsync(body);

        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await redelivery.Content.ReadAsStringAsync()).Should().Be("duplicate");
        await Task.Delay(TimeSpan.FromMilliseconds(250)); // five polls of the restarted worker
        var info = await restarted.GetEventAsync(eventId);
        info!.State.Should().Be(WebhookEventState.Processed);
        info.Attempts.Should().Be(1);
        before.EventRuns[eventId].Should().Be(1);
        before.Fulfillments["cs_test_restart"].Should().Be(1);
        after.EventAttempts.Should().BeEmpty();
        after.Fulfillments.Should().BeEmpty();
    }
}
