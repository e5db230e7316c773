using System.Net;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>A rolling deploy from inline to queued processing, with a redelivery that overtakes a slow inline attempt.</summary>
public class RollingDeployRedeliveryTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task RedeliveryToAQueuedInstance_WhileAnInlineInstanceStillRunsTheEvent_IsHandedToTheWorker_WhichRunsItAfterTheInlineAttemptFails(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var stripeEvent = TestEvents.Event("charge.refunded", StripeFixtures.Get("charge"));
        var eventId = stripeEvent["id"]!.GetValue<string>();

        // Old instance, still inline: a slow handler that then fails (Stripe timed out on it and sends the event again).
        var inlineProbe = new Probe { EventDelay = TimeSpan.FromSeconds(2) };
        inlineProbe.AlwaysFail[eventId] = true;
        await using var inline = await DurableApp.StartAsync(database, inlineProbe);

        // New instance, already queued, sharing the database.
        var queuedProbe = new Probe();
        await using var queued = await DurableApp.StartAsync(database, queuedProbe, DurableApp.QueuedForTests);

        var first = inline.PostAsync(stripeEvent);
        await inlineProbe.EventHandlerStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
        using var redelivery = await queued.PostAsync(stripeEvent);
        var answer = $"{(int)redelivery.StatusCode} {await redelivery.Content.ReadAsStringAsync()}";
        using var firstAnswer = await first;
        firstAnswer.StatusCode.Should().Be(HttpStatusCode.InternalServerError);

        // Stripe stops redelivering after a 2xx: one may only be given for an event that will still run. The queued
        // instance takes the event over from the inline claim, and its worker runs it once the inline attempt fails.
        answer.Should().Be("200 queued");
        var info = await Probe.WaitForAsync(() => queued.GetEventAsync(eventId), e => e?.State == WebhookEventState.Processed, "the worker runs the event the inline attempt failed");
        info!.Attempts.Should().Be(2, "the inline attempt, then the worker's");
        queuedProbe.EventRuns[eventId].Should().Be(1);
        inlineProbe.EventRuns.Should().NotContainKey(eventId);
    }
}
