using System.Collections.Concurrent;
using System.Net;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>Two instances of an app behind a load balancer, sharing one database.</summary>
public class ScaleOutTests
{
    // 500 events on PostgreSQL, the database for several instances; fewer on SQLite, whose single writer
    // makes two instances take turns (it is there to show that nothing breaks, not to scale).
    [SkippableTheory]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Inline, 500)]
    [InlineData(DatabaseKind.PostgreSql, WebhookProcessingMode.Queued, 500)]
    [InlineData(DatabaseKind.Sqlite, WebhookProcessingMode.Queued, 150)]
    public async Task TwoInstances_EventsEachDeliveredThreeTimesConcurrently_RunEveryHandlerExactlyOnce(DatabaseKind kind, WebhookProcessingMode mode, int eventCount)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var probe = new Probe();
        Action<StripePaymentsOptions> options = mode == WebhookProcessingMode.Queued ? DurableApp.QueuedForTests : _ => { };
        await using var first = await DurableApp.StartAsync(database, probe, options);
        await using var second = await DurableApp.StartAsync(database, probe, options);
        var instances = new[] { first, second };
        var bodies = Enumerable.Range(0, eventCount)
            .Select(i => DurableApp.Body(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession($"cs_test_scale_{i:D4}"))))
            .ToList();
        var answers = new ConcurrentBag<(int Event, HttpStatusCode Status, string Reason)>();

        await Parallel.ForEachAsync(Enumerable.Range(0, eventCount), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
        {
            // Three deliveries of one event at the same time, spread over both instances.
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async delivery =>
            {
                using var response = await instances[(i + delivery) % 2].PostAsync(bodies[i]);
                answers.Add((i, response.StatusCode, await response.Content.ReadAsStringAsync()));
            }));
        });

        answers.Should().HaveCount(eventCount * 3);
        answers.Should().OnlyContain(a => a.Status == HttpStatusCode.OK || a.Status == HttpStatusCode.Conflict, "nothing failed");
        if (mode == WebhookProcessingMode.Queued)
        {
            answers.Should().OnlyContain(a => a.Status == HttpStatusCode.OK);
            answers.Count(a => a.Reason == "queued").Should().Be(eventCount, "each event was stored once, its other deliveries were duplicates");
        }
        else
        {
            answers.GroupBy(a => a.Event).Should().OnlyContain(g => g.Count(a => a.Reason == "processed") == 1, "one delivery of each event ran it");
        }

        await Probe.WaitUntilAsync(() => probe.EventRuns.Count == eventCount && probe.Fulfillments.Count == eventCount, "every event ran", TimeSpan.FromSeconds(60));
        probe.EventRuns.Values.Should().OnlyContain(runs => runs == 1, "the event handler ran exactly once per event");
        probe.Fulfillments.Values.Should().OnlyContain(runs => runs == 1, "each purchase was fulfilled exactly once");
        probe.EventAttempts.Values.Should().OnlyContain(runs => runs == 1, "no handler even started twice");

        // The probe counts a run inside the handler, before its transaction commits the event as processed: the last
        // commits may still be on their way. A claim stuck in another state fails the wait, naming the states it saw.
        var expected = $"processed: {eventCount * 2}";
        await Probe.WaitForAsync(
            async () =>
            {
                await using var db = database.CreateContext();
                var rows = await db.Set<WebhookEventRecord>().GroupBy(e => e.State).Select(g => new { g.Key, Count = g.Count() }).ToListAsync();
                return string.Join(", ", rows.OrderBy(row => row.Key).Select(row => $"{row.Key}: {row.Count}"));
            },
            seen => seen == expected,
            "every event and every purchase claim is processed",
            TimeSpan.FromSeconds(30));
    }
}
