using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// A processor whose in-memory store is in the state a running endpoint's is: at its capacity (the default 200,000 ids)
/// and pruning as new ones arrive, its memory grown once and reused since. The fresh store of
/// <see cref="WebhookProcessingBenchmarks"/> instead grows from empty through every iteration, and pays for each new page
/// the kernel maps and each doubling of its arrays.
/// </summary>
internal sealed class FullStore : IDisposable
{
    /// <summary>The first event number the deliveries use; the ids that fill the store are others.</summary>
    private const long FirstDelivery = 1_000_000;

    private readonly ServiceProvider _services;
    private long _nextBatch;

    public FullStore()
    {
        _services = WebhookProcessingBenchmarks.Build<NoOpFulfillmentHandler>();
        Processor = _services.GetRequiredService<IWebhookProcessor>();

        // What the deliveries of 100,000 earlier purchases leave: their events and purchases, processed.
        var store = _services.GetRequiredService<IWebhookEventStore>();
        var capacity = _services.GetRequiredService<Microsoft.Extensions.Options.IOptions<InMemoryWebhookEventStoreOptions>>().Value.Capacity;
        for (var i = 0; i < capacity / 2; i++)
        {
            foreach (var (id, type) in (ReadOnlySpan<(string, string)>)[
                ($"evt_test_fill_{i:D12}", "checkout.session.completed"),
                (Fulfillment.FulfillmentRunner.PurchaseId($"cs_test_fill_{i:D12}"), Fulfillment.FulfillmentRunner.PurchaseType)])
            {
                if (store.TryClaimAsync(id, type, ReadOnlyMemory<byte>.Empty).Result.Status != WebhookClaimStatus.Claimed)
                {
                    throw new InvalidOperationException($"The store did not take {id} as new.");
                }

                store.MarkProcessedAsync(id).AsTask().Wait();
            }
        }
    }

    public IWebhookProcessor Processor { get; }

    /// <summary>
    /// Turns <paramref name="bodies"/> into the next batch of events, all new to the store, and signs them at
    /// <paramref name="signedAt"/> into <paramref name="headers"/>.
    /// </summary>
    public void NextBatch(byte[][] bodies, string[] headers, DateTimeOffset signedAt)
    {
        Stamp(bodies, _nextBatch++);
        Payloads.Sign(bodies, headers, signedAt);
    }

    /// <summary>Turns <paramref name="bodies"/> into batch <paramref name="batch"/>'s events, in place: each batch's are new to the store.</summary>
    public static void Stamp(byte[][] bodies, long batch)
    {
        var first = FirstDelivery + (batch * bodies.Length);
        for (var i = 0; i < bodies.Length; i++)
        {
            Payloads.Restamp(bodies[i], first + i);
        }
    }

    public void Dispose() => _services.Dispose();
}
