using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// <remarks>
/// The map is 64 dictionaries, each behind its own lock, whose entries are structs: an id costs its string and a slot
/// in an array, not a node and an entry object besides. Every id lives for hours, so whatever it costs the garbage
/// collector marks and copies on each collection until it is forgotten: with a node and an entry object per id, a
/// full store made the default server GC's pauses the p99 latency of the whole endpoint.
/// </remarks>
internal sealed partial class InMemoryWebhookEventStore(
    IOptions<InMemoryWebhookEventStoreOptions> options,
    TimeProvider timeProvider,
    ILogger<InMemoryWebhookEventStore> logger) : IWebhookEventStore
{
    private const int ShardCount = 64;

    private readonly Shard[] _shards = [.. Enumerable.Range(0, ShardCount).Select(_ => new Shard())];
    private readonly InMemoryWebhookEventStoreOptions _options = options.Value;
    private long _claimsSincePrune;

    // The number of entries, kept here rather than summed over the shards under their locks.
    private long _count;

    // Every id, in the order it was first claimed, with the sequence number of that claim: the oldest are at the head,
    // so pruning never scans or sorts the map, and an id forgotten and claimed anew is told apart by its new number.
    // A Queue (a ring over one array, reused once it is large enough) under a lock, not a ConcurrentQueue: a
    // ConcurrentQueue that cycles through 200,000 ids keeps allocating new segments of up to a million slots on the
    // large object heap, each one setting off a full collection.
    private readonly Queue<(string Id, long Sequence)> _order = new();
    private readonly Lock _orderGate = new();
    private long _sequence;
    private int _pruning;

    // Expired ids are swept at most once a minute: a sweep visits every entry, and on a busy store sweeping every
    // 1024 claims cost each claim a sixth of an HMAC for ids that expire after 72 hours.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private long _lastSweepTicks;

    internal int Count => (int)Interlocked.Read(ref _count);

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        var now = timeProvider.GetUtcNow().UtcTicks;
        var shard = ShardOf(id);
        WebhookClaim claim;
        long sequence;
        lock (shard.Gate)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(shard.Entries, id, out var exists);
            if (exists)
            {
                switch (entry.State)
                {
                    case EntryState.Processed:
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, entry.Attempts));
                    case EntryState.InProgress when now - entry.ClaimedAt < _options.ClaimLease.Ticks:
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.InProgress, entry.Attempts));
                    default:
                        entry.State = EntryState.InProgress;
                        entry.ClaimedAt = now;
                        entry.UpdatedAt = now;
                        entry.Attempts++;
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, entry.Attempts, entry.Steps?.ToArray()));
                }
            }

            sequence = Interlocked.Increment(ref _sequence);
            entry = new Entry { State = EntryState.InProgress, ClaimedAt = now, UpdatedAt = now, Attempts = 1, Sequence = sequence };
            claim = new WebhookClaim(WebhookClaimStatus.Claimed, 1);
        }

        lock (_orderGate)
        {
            _order.Enqueue((id, sequence));
        }

        PruneIfDue(now, Interlocked.Increment(ref _count));
        return ValueTask.FromResult(claim);
    }

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default)
    {
        var shard = ShardOf(id);
        lock (shard.Gate)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, id);
            if (!Unsafe.IsNullRef(ref entry))
            {
                (entry.Steps ??= new HashSet<string>(StringComparer.Ordinal)).Add(step);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => Mark(id, EntryState.Processed);

    /// <remarks>The error is not kept: nothing reads it back from memory, and the processor has logged it.</remarks>
    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => Mark(id, EntryState.Failed);

    private ValueTask Mark(string id, EntryState state)
    {
        var now = timeProvider.GetUtcNow().UtcTicks;
        var shard = ShardOf(id);
        lock (shard.Gate)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, id);
            if (!Unsafe.IsNullRef(ref entry))
            {
                entry.State = state;
                entry.UpdatedAt = now;
                if (state == EntryState.Processed)
                {
                    entry.Steps = null;
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    private Shard ShardOf(string id) => _shards[StringComparer.Ordinal.GetHashCode(id) & (ShardCount - 1)];

    private void PruneIfDue(long now, long count)
    {
        if (count <= _options.Capacity
            && (Interlocked.Increment(ref _claimsSincePrune) % 1024 != 0 || now - Interlocked.Read(ref _lastSweepTicks) < SweepInterval.Ticks))
        {
            return;
        }

        // One pruner at a time, on the thread pool: a sweep visits every entry, which must not hold up the claim (and
        // the webhook request) that happened to trigger it.
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
    private void Prune(long now)
    {
        Interlocked.Exchange(ref _lastSweepTicks, now);
        var cutoff = now - _options.Retention.Ticks;
        var excess = Interlocked.Read(ref _count) - _options.Capacity;
        var toForget = excess > 0 ? excess + (_options.Capacity / 16) : 0;
        var forgotten = 0;
        var youngestForgotten = long.MinValue;
        int moves;
        lock (_orderGate)
        {
            moves = _order.Count;
        }

        while (TryPeekOrder(out var head))
        {
            var shard = ShardOf(head.Id);
            var verdict = Verdict.Stop;
            lock (shard.Gate)
            {
                ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, head.Id);
                if (Unsafe.IsNullRef(ref entry) || entry.Sequence != head.Sequence)
                {
                    verdict = Verdict.Drop; // forgotten already, or claimed anew since
                }
                else
                {
                    var expired = entry.State != EntryState.InProgress && entry.UpdatedAt < cutoff;
                    if (expired || (toForget > 0 && entry.State == EntryState.Processed))
                    {
                        if (!expired)
                        {
                            toForget--;
                            forgotten++;
                            youngestForgotten = Math.Max(youngestForgotten, entry.UpdatedAt);
                        }

                        shard.Entries.Remove(head.Id);
                        Interlocked.Decrement(ref _count);
                        verdict = Verdict.Drop;
                    }
                    else if ((toForget > 0 || entry.ClaimedAt < cutoff) && moves-- > 0)
                    {
                        verdict = Verdict.MoveBack;
                    }
                }
            }

            if (verdict == Verdict.Stop)
            {
                break;
            }

            lock (_orderGate)
            {
                _order.Dequeue(); // the head still: only the pruner (one at a time) takes from the queue
                if (verdict == Verdict.MoveBack)
                {
                    _order.Enqueue(head);
                }
            }
        }

        if (forgotten > 0)
        {
            Log.CapacityReached(logger, _options.Capacity, forgotten, TimeSpan.FromTicks(now - youngestForgotten));
        }
    }

    private bool TryPeekOrder(out (string Id, long Sequence) head)
    {
        lock (_orderGate)
        {
            return _order.TryPeek(out head);
        }
    }

    private enum Verdict
    {
        Stop,
        Drop,
        MoveBack,
    }

    private enum EntryState : byte
    {
        InProgress,
        Processed,
        Failed,
    }

    /// <summary>What is known of one id; times are UTC ticks.</summary>
    private struct Entry
    {
        public EntryState State;
        public int Attempts;
        public long ClaimedAt;
        public long UpdatedAt;
        public long Sequence;
        public HashSet<string>? Steps;
    }

    private sealed class Shard
    {
        public readonly Lock Gate = new();
        public readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, EventName = "EventStoreCapacityReached", Level = LogLevel.Warning,
            Message = "The in-memory webhook event store reached its capacity of {Capacity} ids and forgot the {Count} oldest processed ones (the youngest forgotten was {Age} old). Duplicates older than that are no longer recognised: raise InMemoryWebhookEventStoreOptions.Capacity or use a durable store")]
        public static partial void CapacityReached(ILogger logger, int capacity, int count, TimeSpan age);
    }
}
