using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>Processed events past the retention are deleted in batches; purchase claims and unfinished events stay.</summary>
public class PruneTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task Pruner_DeletesOldProcessedEventsInBatches_AndKeepsPurchasesAndUnfinishedEvents(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var services = StoreServices.Build(database, clock, o => o.WebhookEventRetention = TimeSpan.FromDays(30));
        var old = Enumerable.Range(0, WebhookEventPruner.BatchSize + 5).Select(i => $"evt_old_{i:D5}").ToList();
        foreach (var id in old)
        {
            await ProcessAsync(services, id, "charge.refunded", payload: true);
        }

        await ProcessAsync(services, "checkout.session:cs_test_kept", "checkout.fulfillment", payload: false);
        await using (var scope = services.CreateAsyncScope())
        {
            var store = Store(scope);
            await store.TryClaimAsync("evt_failed", "invoice.paid", Encoding.UTF8.GetBytes("{}"));
            await store.MarkFailedAsync("evt_failed", "InvalidOperationException: down");
        }

        clock.Advance(TimeSpan.FromDays(31));
        await ProcessAsync(services, "evt_recent", "charge.refunded", payload: true);
        var sut = new WebhookEventPruner(services.GetRequiredService<IServiceScopeFactory>(), services.GetRequiredService<IOptions<StripePaymentsOptions>>(), clock, NullLogger<WebhookEventPruner>.Instance);

        var deleted = await sut.PruneOnceAsync(CancellationToken.None);

        deleted.Should().Be(old.Count, "every old processed event goes, over more than one batch");
        await using var check = services.CreateAsyncScope();
        var queue = (IWebhookEventQueue)Store(check);
        (await queue.FindAsync(old[0])).Should().BeNull();
        (await queue.FindAsync("evt_recent")).Should().NotBeNull();
        (await queue.FindAsync("evt_failed"))!.State.Should().Be(WebhookEventState.Failed);
        (await queue.TryClaimAsync("checkout.session:cs_test_kept", "checkout.fulfillment", ReadOnlyMemory<byte>.Empty)).Status
            .Should().Be(WebhookClaimStatus.AlreadyProcessed, "a purchase claim outlives the retention, so a late success-page visit cannot fulfil twice");
        (await sut.PruneOnceAsync(CancellationToken.None)).Should().Be(0);
    }

    private static async Task ProcessAsync(ServiceProvider services, string id, string type, bool payload)
    {
        await using var scope = services.CreateAsyncScope();
        var store = Store(scope);
        (await store.TryClaimAsync(id, type, payload ? Encoding.UTF8.GetBytes("""{"id":"x"}""") : ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        await store.MarkProcessedAsync(id);
    }

    private static IWebhookEventStore Store(AsyncServiceScope scope) => scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
}
