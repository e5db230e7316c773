using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Wavhaven.Payments.Webhooks;

/// <summary>Settings of the default, in-memory <see cref="IWebhookEventStore"/>.</summary>
public sealed class InMemoryWebhookEventStoreOptions
{
    /// <summary>Gets or sets how long a processed id is remembered. Stripe retries for three days; the default is 72 hours.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(72);

    /// <summary>Gets or sets how many ids are remembered at most; past it, the oldest processed ones are forgotten first (down to 15/16 of it).</summary>
    public int Capacity { get; set; } = 200_000;

    /// <summary>Gets or sets how long a claim in progress blocks others before it is presumed dead.</summary>
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The default store: a bounded map in memory. It does not survive a restart and is not shared between
/// instances; use a durable store (the Entity Framework Core package) for those.
/// </summary>
internal sealed partial class InMemoryWebhookEventStore(
    IOptions<InMemoryWebhookEventStoreOptions> options,
    TimeProvider timeProvider,
    ILogger<InMemoryWebhookEventStore> logger) : IWebhookEventStore
{
    // Sized for its capacity from the start: growing a ConcurrentDictionary rehashes every entry with all its locks
    // held, which stalled every claim for tens of milliseconds at each doubling under load.
    private readonly ConcurrentDictionary<string, Entry> _entries = new(
        Environment.ProcessorCount * 4, Math.Clamp(options.Value.Capacity + (options.Value.Capacity / 16), 31, 1 << 20), StringComparer.Ordinal);
    private readonly InMemoryWebhookEventStoreOptions _options = options.Value;
    private long _claimsSincePrune;

    // The number of entries, kept here because ConcurrentDictionary.Count takes every one of its locks (up to
    // 1024 once the map has grown): reading it on each claim made a claim cost more than the HMAC of the event.
    private long _count;

    // Every id, in the order it was first claimed: the oldest are at the head, so pruning never scans or sorts the map.
    private readonly ConcurrentQueue<KeyValuePair<string, Entry>> _order = new();
    private int _pruning;

    // Expired ids are swept at most once a minute: a sweep visits every entry, and on a busy store sweeping every
    // 1024 claims cost each claim a sixth of an HMAC for ids that expire after 72 hours.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private long _lastSweepTicks;

    internal int Count => _entries.Count;

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var now = timeProvider.GetUtcNow();
        var fresh = new Entry(now);
        while (true)
        {
            if (_entries.TryAdd(id, fresh))
            {
                _order.Enqueue(new KeyValuePair<string, Entry>(id, fresh));
                PruneIfDue(now, Interlocked.Increment(ref _count));
                return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, 1));
            }

            if (!_entries.TryGetValue(id, out var existing))
            {
                continue; // Pruned in between: try to add it again.
            }

            lock (existing)
            {
                switch (existing.State)
                {
                    case EntryState.Processed:
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, existing.Attempts));
                    case EntryState.InProgress when now - existing.ClaimedAt < _options.ClaimLease:
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.InProgress, existing.Attempts));
                    default:
                        existing.State = EntryState.InProgress;
                        existing.ClaimedAt = now;
                        existing.UpdatedAt = now;
                        existing.Attempts++;
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, existing.Attempts, existing.Steps?.ToArray()));
                }
            }
        }
    }

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                (entry.Steps ??= new HashSet<string>(StringComparer.Ordinal)).Add(step);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => Mark(id, EntryState.Processed, null);

    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => Mark(id, EntryState.Failed, error);

    private ValueTask Mark(string id, EntryState state, string? error)
    {
        if (_entries.TryGetValue(id, out var entry))
        {
            lock (entry)
            {
                entry.State = state;
                entry.UpdatedAt = timeProvider.GetUtcNow();
                entry.LastError = error;
                if (state == EntryState.Processed)
                {
                    entry.Steps = null;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private void PruneIfDue(DateTimeOffset now, long count)
    {
        if (count <= _options.Capacity
            && (Interlocked.Increment(ref _claimsSincePrune) % 1024 != 0 || now.UtcTicks - Interlocked.Read(ref _lastSweepTicks) < SweepInterval.Ticks))
        {
            return;
        }

        // One pruner at a time, on the thread pool: a sweep visits every entry and a capacity pass sorts them, which
        // must not hold up the claim (and the webhook request) that happened to trigger it.
        if (Interlocked.Exchange(ref _pruning, 1) == 1)
        {
            return;
        }

        LastPrune = Task.Run(() =>
        {
            try
            {
                Prune(now);
            }
            finally
            {
                Volatile.Write(ref _pruning, 0);
            }
        });
    }

    /// <summary>Gets the latest prune (for tests).</summary>
    internal Task LastPrune { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Walks the ids in the order they were first claimed, which is the order they age in: expired ones go, and past
    /// the capacity the oldest processed ones go too, down to 15/16 of it; the walk stops at the first id that stays.
    /// Ids that cannot go yet (in progress, or failed and not expired) move to the back.
    /// </summary>
    /// <remarks>
    /// This replaced a sweep over the whole map and, at capacity, a sort of all of it: under the load test that sort
    /// took a tenth of the server's CPU and its large arrays set off full garbage collections.
    /// </remarks>
    private void Prune(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _lastSweepTicks, now.UtcTicks);
        var cutoff = now - _options.Retention;
        var excess = Interlocked.Read(ref _count) - _options.Capacity;
        var toForget = excess > 0 ? excess + (_options.Capacity / 16) : 0;
        var forgotten = 0;
        var youngestForgotten = DateTimeOffset.MinValue;
        var moves = _order.Count;
        while (_order.TryPeek(out var head))
        {
            var (id, entry) = head;
            if (!_entries.TryGetValue(id, out var current) || !ReferenceEquals(current, entry))
            {
                _order.TryDequeue(out _); // forgotten already, or claimed anew under another entry
                continue;
            }

            var expired = entry.State != EntryState.InProgress && entry.UpdatedAt < cutoff;
            if (expired || (toForget > 0 && entry.State == EntryState.Processed))
            {
                _order.TryDequeue(out _);
                if (Remove(head) && !expired)
                {
                    toForget--;
                    forgotten++;
                    youngestForgotten = entry.UpdatedAt > youngestForgotten ? entry.UpdatedAt : youngestForgotten;
                }

                continue;
            }

            if ((toForget > 0 || entry.ClaimedAt < cutoff) && moves-- > 0)
            {
                _order.TryDequeue(out _);
                _order.Enqueue(head);
                continue;
            }

            break;
        }

        if (forgotten > 0)
        {
            Log.CapacityReached(logger, _options.Capacity, forgotten, now - youngestForgotten);
        }
    }

    private bool Remove(KeyValuePair<string, Entry> pair)
    {
        if (_entries.TryRemove(pair))
        {
            Interlocked.Decrement(ref _count);
            return true;
        }

        return false;
    }

    private enum EntryState
    {
        InProgress,
        Processed,
        Failed,
    }

    private sealed class Entry(DateTimeOffset claimedAt)
    {
        public EntryState State { get; set; } = EntryState.InProgress;

        public DateTimeOffset ClaimedAt { get; set; } = claimedAt;

        public DateTimeOffset UpdatedAt { get; set; } = claimedAt;

        public int Attempts { get; set; } = 1;

        public HashSet<string>? Steps { get; set; }

        public string? LastError { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, EventName = "EventStoreCapacityReached", Level = LogLevel.Warning,
            Message = "The in-memory webhook event store reached its capacity of {Capacity} ids and forgot the {Count} oldest processed ones (the youngest forgotten was {Age} old). Duplicates older than that are no longer recognised: raise InMemoryWebhookEventStoreOptions.Capacity or use a durable store")]
        public static partial void CapacityReached(ILogger logger, int capacity, int count, TimeSpan age);
    }
}
