using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
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
/// Every id lives for hours, so whatever object it costs, the garbage collector marks, and copies from generation to
/// generation, until it is forgotten: with a node and an entry object per id, a full store made the default server GC's
/// pauses the p99 latency of the whole endpoint, and the id strings alone still cost every delivery about a microsecond
/// of collections. So the store keeps no object per id. It is 64 shards, each behind its own lock; a shard copies its
/// ids' UTF-8 bytes into 16 KB pages on the pinned object heap, in the order they arrive, and its dictionary's keys
/// and entries are structs that point into those pages by number and offset. The pages die in the order their ids are
/// forgotten (an id that has to stay is copied forward when the pruner passes it), and are reused.
/// </remarks>
internal sealed partial class InMemoryWebhookEventStore(
    IOptions<InMemoryWebhookEventStoreOptions> options,
    TimeProvider timeProvider,
    ILogger<InMemoryWebhookEventStore> logger) : IWebhookEventStore
{
    private const int ShardCount = 64;

    /// <summary>The longest id taken, in characters: Stripe's ids are at most 255, the library's purchase ids 17 more.</summary>
    internal const int MaxIdLength = 1024;

    private readonly Shard[] _shards = [.. Enumerable.Range(0, ShardCount).Select(_ => new Shard())];
    private readonly InMemoryWebhookEventStoreOptions _options = options.Value;
    private long _claimsSincePrune;

    // The number of entries, kept here rather than summed over the shards under their locks.
    private long _count;

    // Every id, in the order it was first claimed, with the sequence number of that claim: the oldest are at the head,
    // so pruning never scans or sorts the map. Each entry has one item here; the pruner checks the number anyway.
    // A Queue (a ring over one array, reused once it is large enough) under a lock, not a ConcurrentQueue: a
    // ConcurrentQueue that cycles through 200,000 ids keeps allocating new segments of up to a million slots on the
    // large object heap, each one setting off a full collection.
    private readonly Queue<(IdKey Key, long Sequence)> _order = new();
    private readonly Lock _orderGate = new();
    private long _sequence;
    private int _pruning;

    // Expired ids are swept at most once a minute: a sweep visits every entry, and on a busy store sweeping every
    // 1024 claims cost each claim a sixth of an HMAC for ids that expire after 72 hours.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    private long _lastSweepTicks;

    // The store's times are only compared with each other (leases of minutes, retention of hours), so on the system clock
    // it reads the coarse monotonic count: about 9 ns against 30 ns for the wall clock on this kind of virtual machine,
    // four times per delivery, and deaf to the wall clock's steps. Any other TimeProvider (a test's) is read as given.
    private readonly bool _monotonic = timeProvider == TimeProvider.System;

    internal int Count => (int)Interlocked.Read(ref _count);

    /// <summary>Gets how many pages of id bytes the shards hold (for tests).</summary>
    internal int PageCount => _shards.Sum(shard =>
    {
        lock (shard.Gate)
        {
            return shard.PageCount;
        }
    });

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        var hash = HashOf(id);
        var now = Now();
        var shard = _shards[hash & (ShardCount - 1)];
        WebhookClaim claim;
        IdKey key;
        long sequence;
        lock (shard.Gate)
        {
            key = shard.Stage(id, hash);
            ref var entry = ref CollectionsMarshal.GetValueRefOrAddDefault(shard.Entries, key, out var exists);
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
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, entry.Attempts, shard.CompletedSteps(entry.Sequence)));
                }
            }

            shard.Commit(key);
            sequence = Interlocked.Increment(ref _sequence);
            entry = new Entry { State = EntryState.InProgress, ClaimedAt = now, UpdatedAt = now, Attempts = 1, Sequence = sequence };
            claim = new WebhookClaim(WebhookClaimStatus.Claimed, 1);
        }

        lock (_orderGate)
        {
            _order.Enqueue((key, sequence));
        }

        PruneIfDue(now, Interlocked.Increment(ref _count));
        return ValueTask.FromResult(claim);
    }

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default)
    {
        var hash = HashOf(id);
        var shard = _shards[hash & (ShardCount - 1)];
        lock (shard.Gate)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, shard.Stage(id, hash));
            if (!Unsafe.IsNullRef(ref entry))
            {
                shard.AddCompletedStep(entry.Sequence, step);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => Mark(id, EntryState.Processed);

    /// <remarks>The error is not kept: nothing reads it back from memory, and the processor has logged it.</remarks>
    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => Mark(id, EntryState.Failed);

    private ValueTask Mark(string id, EntryState state)
    {
        var hash = HashOf(id);
        var now = Now();
        var shard = _shards[hash & (ShardCount - 1)];
        lock (shard.Gate)
        {
            ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, shard.Stage(id, hash));
            if (!Unsafe.IsNullRef(ref entry))
            {
                entry.State = state;
                entry.UpdatedAt = now;
                if (state == EntryState.Processed)
                {
                    shard.ForgetSteps(entry.Sequence);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Now, in ticks: only differences between two readings mean anything.</summary>
    private long Now() => _monotonic ? Environment.TickCount64 * TimeSpan.TicksPerMillisecond : timeProvider.GetUtcNow().UtcTicks;

    /// <summary>The id's hash, which picks its shard and its bucket; refuses what no store could take.</summary>
    private static int HashOf(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.Length > MaxIdLength)
        {
            throw new ArgumentException($"The id is {id.Length} characters long; the in-memory event store takes ids of up to {MaxIdLength}.", nameof(id));
        }

        return string.GetHashCode(id, StringComparison.Ordinal);
    }

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

        StartPrune(now);
    }

    // Apart from PruneIfDue, whose every call would otherwise allocate the lambda's closure of `now`.
    private void StartPrune(long now) =>
        LastPrune = Task.Run(() =>
        {
            var dropped = 0;
            var tally = new PruneTally(0, long.MinValue);
            try
            {
                // Again while the claims made during a pass keep the store over its capacity: a pass forgets what was over
                // it when the pass began, and a burst of claims on many threads can outrun one pruner. Not when a pass
                // forgot nothing (every id left in progress, or failed and unexpired), which would only spin.
                while ((dropped = Prune(now, ref tally)) > 0 && Count > _options.Capacity)
                {
                    now = Now();
                }
            }
            finally
            {
                Volatile.Write(ref _pruning, 0);
            }

            if (tally.Forgotten > 0)
            {
                Log.CapacityReached(logger, _options.Capacity, tally.Forgotten, TimeSpan.FromTicks(now - tally.YoungestForgotten));
            }

            // A claim made after the last look saw this pruner running and started none; from here on, claims start their
            // own, so one more look leaves nothing behind.
            if (dropped > 0 && Count > _options.Capacity && Interlocked.Exchange(ref _pruning, 1) == 0)
            {
                StartPrune(Now());
            }
        });

    /// <summary>Gets the latest prune (for tests); a prune may start the next before it ends.</summary>
    internal Task LastPrune { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Walks the ids in the order they were first claimed, which is the order they age in: expired ones go, and past
    /// the capacity the oldest processed ones go too, down to 15/16 of it; the walk stops at the first id that stays.
    /// Ids that cannot go yet (in progress, or failed and not expired) move to the back.
    /// </summary>
    /// <returns>How many ids it forgot; those forgotten for the capacity are added to <paramref name="tally"/>.</returns>
    private int Prune(long now, ref PruneTally tally)
    {
        Interlocked.Exchange(ref _lastSweepTicks, now);
        var cutoff = now - _options.Retention.Ticks;
        var excess = Interlocked.Read(ref _count) - _options.Capacity;
        var toForget = excess > 0 ? excess + (_options.Capacity / 16) : 0;
        var dropped = 0;
        int moves;
        lock (_orderGate)
        {
            moves = _order.Count;
        }

        while (TryPeekOrder(out var head))
        {
            var shard = _shards[head.Key.Hash & (ShardCount - 1)];
            var verdict = Verdict.Stop;
            lock (shard.Gate)
            {
                ref var entry = ref CollectionsMarshal.GetValueRefOrNullRef(shard.Entries, head.Key);
                if (Unsafe.IsNullRef(ref entry) || entry.Sequence != head.Sequence)
                {
                    verdict = Verdict.Drop; // forgotten already, or claimed anew since
                }
                else
                {
                    // A claim in progress expires too once its lease is long over: its worker is gone (or hung) for good.
                    var expired = (entry.State != EntryState.InProgress || now - entry.ClaimedAt >= _options.ClaimLease.Ticks) && entry.UpdatedAt < cutoff;
                    if (expired || (toForget > 0 && entry.State == EntryState.Processed))
                    {
                        if (!expired)
                        {
                            toForget--;
                            tally = new PruneTally(tally.Forgotten + 1, Math.Max(tally.YoungestForgotten, entry.UpdatedAt));
                        }

                        shard.ForgetSteps(entry.Sequence);
                        shard.Entries.Remove(head.Key);
                        shard.Release(head.Key);
                        Interlocked.Decrement(ref _count);
                        dropped++;
                        verdict = Verdict.Drop;
                    }
                    else if ((toForget > 0 || entry.ClaimedAt < cutoff) && moves-- > 0)
                    {
                        // Its bytes move to the pages' end with it, so that its old page can be reused once the rest go.
                        head.Key = shard.MoveToEnd(head.Key);
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

        return dropped;
    }

    private bool TryPeekOrder(out (IdKey Key, long Sequence) head)
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

    /// <summary>What is known of one id; times are ticks of the store's clock (<see cref="Now"/>). <see cref="Sequence"/> is unique in the store.</summary>
    private struct Entry
    {
        public EntryState State;
        public int Attempts;
        public long ClaimedAt;
        public long UpdatedAt;
        public long Sequence;
    }

    /// <summary>
    /// Where a shard keeps an id's UTF-8 bytes, with the id's hash. Not a record: its own equality would compare places,
    /// not ids; only the shard, which has the bytes, compares keys.
    /// </summary>
    private readonly struct IdKey(int hash, int page, int offset, int length)
    {
        public int Hash { get; } = hash;

        public int Page { get; } = page;

        public int Offset { get; } = offset;

        public int Length { get; } = length;
    }

    /// <summary>What the passes of one prune forgot for the capacity, for its one warning.</summary>
    private readonly record struct PruneTally(int Forgotten, long YoungestForgotten);

    /// <summary>
    /// One lock's worth of the map: the dictionary, and the pages its keys point into. Ids are written at the pages' end
    /// (<see cref="Stage"/>): a lookup's key points there, and a claim that adds the id keeps it (<see cref="Commit"/>).
    /// A page is reused when the last id on it is forgotten. Everything here runs under <see cref="Gate"/>.
    /// </summary>
    private sealed class Shard : IEqualityComparer<IdKey>
    {
        private const int PageSize = 16 * 1024;

        private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        public readonly Lock Gate = new();
        public readonly Dictionary<IdKey, Entry> Entries;

        private readonly List<byte[]> _pages = [];
        private readonly List<int> _liveIds = [];
        private readonly Stack<int> _freePages = new();
        private int _endPage = -1;
        private int _endOffset = PageSize;

        // The steps that succeeded of ids that have more than one and are not processed yet, by the entry's sequence:
        // rare, so kept aside and made on first use rather than a reference in every entry.
        private Dictionary<long, HashSet<string>>? _steps;

        public Shard() => Entries = new Dictionary<IdKey, Entry>(this);

        public int PageCount => _pages.Count;

        /// <summary>Writes the id at the pages' end, without keeping it there: the key finds the id's entry.</summary>
        /// <exception cref="ArgumentException">The id is not valid UTF-16 (a lone surrogate).</exception>
        public IdKey Stage(string id, int hash)
        {
            EnsureRoom(StrictUtf8.GetMaxByteCount(id.Length));
            int length;
            try
            {
                length = StrictUtf8.GetBytes(id, _pages[_endPage].AsSpan(_endOffset));
            }
            catch (EncoderFallbackException exception)
            {
                throw new ArgumentException("The id is not valid UTF-16: it holds a lone surrogate.", nameof(id), exception);
            }

            return new IdKey(hash, _endPage, _endOffset, length);
        }

        /// <summary>Keeps the id that <see cref="Stage"/> wrote last, for the entry just added under its key.</summary>
        public void Commit(IdKey key)
        {
            _endOffset += key.Length;
            _liveIds[key.Page]++;
        }

        /// <summary>Lets the bytes of a forgotten id go; its page is reused once none of its ids is left.</summary>
        public void Release(IdKey key)
        {
            if (--_liveIds[key.Page] == 0 && key.Page != _endPage)
            {
                _freePages.Push(key.Page);
            }
        }

        /// <summary>Copies a kept id to the pages' end and re-keys its entry there.</summary>
        public IdKey MoveToEnd(IdKey key)
        {
            EnsureRoom(key.Length);
            _pages[key.Page].AsSpan(key.Offset, key.Length).CopyTo(_pages[_endPage].AsSpan(_endOffset));
            var moved = new IdKey(key.Hash, _endPage, _endOffset, key.Length);
            Entries.Remove(key, out var entry);
            Entries.Add(moved, entry);
            Commit(moved);
            Release(key);
            return moved;
        }

        public IReadOnlyCollection<string>? CompletedSteps(long sequence) =>
            _steps is not null && _steps.TryGetValue(sequence, out var steps) ? [.. steps] : null;

        public void AddCompletedStep(long sequence, string step)
        {
            ref var steps = ref CollectionsMarshal.GetValueRefOrAddDefault(_steps ??= [], sequence, out _);
            (steps ??= new HashSet<string>(StringComparer.Ordinal)).Add(step);
        }

        public void ForgetSteps(long sequence) => _steps?.Remove(sequence);

        public bool Equals(IdKey x, IdKey y) =>
            x.Hash == y.Hash && x.Length == y.Length && Bytes(x).SequenceEqual(Bytes(y));

        public int GetHashCode(IdKey key) => key.Hash;

        private ReadOnlySpan<byte> Bytes(IdKey key) => _pages[key.Page].AsSpan(key.Offset, key.Length);

        /// <summary>Moves the end to a page of its own when the current one lacks room, freeing the old one if nothing lives on it.</summary>
        private void EnsureRoom(int bytes)
        {
            if (PageSize - _endOffset >= bytes)
            {
                return;
            }

            if (_endPage >= 0 && _liveIds[_endPage] == 0)
            {
                _freePages.Push(_endPage);
            }

            if (!_freePages.TryPop(out _endPage))
            {
                // Pinned: the pages live as long as their ids, and the collector never copies what it cannot move.
                _pages.Add(GC.AllocateUninitializedArray<byte>(PageSize, pinned: true));
                _liveIds.Add(0);
                _endPage = _pages.Count - 1;
            }

            _endOffset = 0;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, EventName = "EventStoreCapacityReached", Level = LogLevel.Warning,
            Message = "The in-memory webhook event store reached its capacity of {Capacity} ids and forgot the {Count} oldest processed ones (the youngest forgotten was {Age} old). Duplicates older than that are no longer recognised: raise InMemoryWebhookEventStoreOptions.Capacity or use a durable store")]
        public static partial void CapacityReached(ILogger logger, int capacity, int count, TimeSpan age);
    }
}
