using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>The in-memory store over many deliveries, as a long-running endpoint sees them.</summary>
public class InMemoryWebhookEventStoreSoakTests
{
    /// <summary>
    /// A handler that fails for every event (its database down for a day, a bad deploy) leaves failed ids, which the store
    /// keeps past its capacity until they expire (72 hours). A pass of the pruner walks the whole ring, moving every id it
    /// must keep to the back; one that could forget nothing must not be run again for the very next new id, or every new
    /// delivery pays a walk over every failed id (under the store's lock, 64 at a time) and the endpoint slows down as
    /// the failures pile up: through the real endpoint, with a capacity of 10,000, a delivery took 0.4 ms with 20,000 failed
    /// ids behind it and 2.5 ms with 60,000.
    /// </summary>
    [Fact]
    public async Task PastItsCapacity_WithOnlyFailedIds_ANewIdDoesNotStartAnotherWalkOverAllOfThem()
    {
        const int Capacity = 1_000;
        var sut = new InMemoryWebhookEventStore(
            Options.Create(new InMemoryWebhookEventStoreOptions { Capacity = Capacity }), new FakeTimeProvider(), NullLogger<InMemoryWebhookEventStore>.Instance);
        for (var i = 0; i < 2 * Capacity; i++)
        {
            await FailAsync(sut, "evt_failed_" + i);
            await sut.LastPrune;
        }

        var passes = 0;
        var last = sut.LastPrune;
        for (var i = 0; i < 2 * Capacity; i++)
        {
            await FailAsync(sut, "evt_failed_later_" + i);
            await sut.LastPrune;
            if (!ReferenceEquals(last, sut.LastPrune))
            {
                passes++;
                last = sut.LastPrune;
            }
        }

        sut.Count.Should().Be(4 * Capacity, "failed ids are kept until they expire, past the capacity");
        passes.Should().BeLessThan(2 * Capacity / 16, "a pass that forgot nothing is not repeated for each new id (each pass walks every id it keeps: {0} by the end)", sut.Count);
        (await sut.TryClaimAsync("evt_failed_0", "t", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed, "a failed id is still known, and claimed again");
    }

    private static async Task FailAsync(InMemoryWebhookEventStore sut, string id)
    {
        (await sut.TryClaimAsync(id, "charge.succeeded", ReadOnlyMemory<byte>.Empty)).Status.Should().Be(WebhookClaimStatus.Claimed);
        await sut.MarkFailedAsync(id, "boom");
    }
}
