using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// Claims renewed while an event of several steps runs (a paid checkout's fulfillment, then an event handler): the first
/// step's mark must not lock the event's row for the rest of the transaction, or no renewal can extend its lease, and the
/// committed lease runs out while the handlers still run. PostgreSQL only, on real time with leases of 1.5 s.
/// </summary>
public class ClaimRenewalMultiStepTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1.5);

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task InlineEventOfSeveralSteps_SlowerThanTheLease_IsAnsweredInProgressAtOnce_ToARedelivery(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { EventDelay = TimeSpan.FromSeconds(6) };
        await using var app = await DurableApp.StartAsync(database, probe, options => options.WebhookClaimLease = Lease);
        var body = DurableApp.Body(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_renew_steps")));

        var first = app.PostAsync(body);
        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30)); // the fulfillment step is done and marked
        await Task.Delay(Lease + TimeSpan.FromSeconds(0.5)); // the first lease has run out: only a renewal holds the claim
        var watch = Stopwatch.StartNew();
        using (var redelivery = await app.PostAsync(body))
        {
            watch.Stop();
            redelivery.StatusCode.Should().Be(HttpStatusCode.Conflict, "the first delivery's handlers still run, under a renewed claim");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a renewed claim is answered in progress at once, not waited for until its handlers end");
        }

        using (var response = await first)
        {
            (await response.Content.ReadAsStringAsync()).Should().Be("processed");
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task QueuedEventOfSeveralSteps_SlowerThanTheLease_IsNoBacklog_WhileItsClaimIsRenewed(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { EventDelay = TimeSpan.FromSeconds(6) };
        await using var app = await DurableApp.StartAsync(database, probe, options =>
        {
            DurableApp.QueuedForTests(options);
            options.WebhookClaimLease = Lease;
        });
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_renew_backlog"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        using (var response = await app.PostAsync(stripeEvent))
        {
            response.EnsureSuccessStatusCode();
        }

        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(Lease * 2); // four periods: a renewed claim's lease is still ahead

        WebhookQueueBacklog backlog;
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            backlog = await queue.GetBacklogAsync(DateTimeOffset.UtcNow);
        }

        backlog.Queued.Should().Be(0, "the event's handlers run under a renewed claim: it is not waiting for a worker (the health check reports the overdue ones as a stalled queue)");
        await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the event was processed");
        probe.EventAttempts[eventId].Should().Be(1);
    }
}
