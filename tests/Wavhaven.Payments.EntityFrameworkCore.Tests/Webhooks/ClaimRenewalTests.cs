using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// Claims renewed while their handlers run, through real deliveries and the real worker, on real time with leases of 1.5 s
/// (renewed every 0.5 s). PostgreSQL only: on SQLite the handlers' transaction holds the one write lock, so no other
/// connection can take a claim over while they run (README: Running several instances), and the store does not renew.
/// </summary>
public class ClaimRenewalTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(1.5);

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task QueuedHandlerSlowerThanTheLease_IsNotRunAgainByAnotherSlot_WhileItRuns(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { EventDelay = TimeSpan.FromSeconds(4) };
        await using var app = await DurableApp.StartAsync(database, probe, Queued, LogLevel.Debug);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        using (var response = await app.PostAsync(stripeEvent))
        {
            response.EnsureSuccessStatusCode();
        }

        var info = await Probe.WaitForAsync(() => app.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the slow handler finished");

        probe.EventAttempts[eventId].Should().Be(1, "the worker's other slots (MaxConcurrency 4) find the claim renewed, not run out");
        probe.EventRuns[eventId].Should().Be(1);
        info!.Attempts.Should().Be(1);
        app.Logs.Lines.Should().Contain(l => l.EventName == "WebhookClaimRenewed");
        app.Logs.Lines.Should().NotContain(l => l.Level >= LogLevel.Warning);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task InlineHandlerSlowerThanTheLease_IsNotRunAgainByARedelivery_WhileItRuns(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { EventDelay = TimeSpan.FromSeconds(4) };
        await using var app = await DurableApp.StartAsync(database, probe, options => options.WebhookClaimLease = Lease);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        var body = DurableApp.Body(stripeEvent);

        var first = app.PostAsync(body);
        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Task.Delay(Lease + TimeSpan.FromSeconds(0.5)); // the first lease has run out by now: only a renewal holds the claim
        using (var redelivery = await app.PostAsync(body))
        {
            redelivery.StatusCode.Should().Be(HttpStatusCode.Conflict, "the first delivery's handler still runs, and its claim was renewed");
        }

        using (var response = await first)
        {
            response.StatusCode.Should().Be(HttpStatusCode.OK);
            (await response.Content.ReadAsStringAsync()).Should().Be("processed");
        }

        probe.EventAttempts[eventId].Should().Be(1);
        (await app.GetEventAsync(eventId))!.State.Should().Be(WebhookEventState.Processed);
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task ClaimLostWhileItsHandlerRuns_StopsItsRenewal_CancelsTheHandler_AndRecordsNothing(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe { HangUntilCancelled = true };
        await using var app = await DurableApp.StartAsync(database, probe, Queued);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();
        using (var response = await app.PostAsync(stripeEvent))
        {
            response.EnsureSuccessStatusCode();
        }

        await probe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Another worker took the event (its renewals had failed for a whole lease, say): a new token, and a lease of its own.
        var takenUntil = DateTime.UtcNow.AddHours(1);
        await using (var db = database.CreateContext())
        {
            (await db.Database.ExecuteSqlAsync($"UPDATE wavhaven_webhook_events SET lease_token = 'another_worker', lease_expires_at = {takenUntil} WHERE id = {eventId}")).Should().Be(1);
        }

        await Probe.WaitUntilAsync(() => app.Logs.Lines.Any(l => l.EventName == "WebhookQueueClaimLost"), "the worker gave the attempt up");
        await Task.Delay(Lease * 2); // six periods more: a renewal that went on would log the loss again

        app.Logs.Lines.Count(l => l.EventName == "WebhookClaimLost").Should().Be(1, "the first renewal that finds the claim lost stops the renewals");
        probe.EventRuns.Should().NotContainKey(eventId, "the handler's token was cancelled: it did not run to its end");
        app.Logs.Lines.Should().NotContain(l => l.EventName == "WebhookQueueRetrying" || l.EventName == "WebhookQueueInterrupted", "nothing is recorded over the new holder's claim");
        await using (var db = database.CreateContext())
        {
            var row = await db.Database.SqlQuery<LeaseRow>($"SELECT state AS \"State\", attempts AS \"Attempts\", lease_token AS \"Token\", lease_expires_at AS \"Until\" FROM wavhaven_webhook_events WHERE id = {eventId}").SingleAsync();
            row.State.Should().Be("processing");
            row.Token.Should().Be("another_worker");
            row.Until.Should().BeCloseTo(takenUntil, TimeSpan.FromMilliseconds(1), "the new holder's lease is its own");
            row.Attempts.Should().Be(1);
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerFasterThanARenewalPeriod_IsNeverRenewed(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        await using var app = await DurableApp.StartAsync(database, probe, options => options.WebhookClaimLease = Lease, LogLevel.Debug);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));

        using (var response = await app.PostAsync(stripeEvent))
        {
            (await response.Content.ReadAsStringAsync()).Should().Be("processed");
        }

        await Task.Delay(Lease * 2); // six periods: a renewal timer left running would renew, or find the claim gone

        app.Logs.Lines.Should().NotContain(l => l.EventName.StartsWith("WebhookClaim", StringComparison.Ordinal));
    }

    private static void Queued(StripePaymentsOptions options)
    {
        DurableApp.QueuedForTests(options);
        options.WebhookClaimLease = Lease;
    }

    private sealed record LeaseRow(string State, int Attempts, string? Token, DateTime? Until);
}
