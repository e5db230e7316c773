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

    /// <summary>
    /// Gets or sets how many ids the store keeps: past it, the oldest processed ones are forgotten (down to 15/16 of it).
    /// Ids in progress, or failed and not expired, are kept even past it. Events' ids go before purchases' records (one
    /// per paid Checkout session, which says it was fulfilled): a purchase's goes only while purchases hold more than
    /// half the capacity, since an event of it may still be waiting for Stripe's retry after the events around it were
    /// forgotten, and must find it fulfilled.
    /// </summary>
    public int Capacity { get; set; } = 200_000;

    /// <summary>Ignored: the in-memory store's claims hold until their handlers end (see the remarks).</summary>
    /// <remarks>
    /// It was how long a claim in progress blocked others before it was presumed dead. A claim of this store is made and
    /// marked in one process, whose end takes the store with it, so it is never dead while the store lives: it is held
    /// until the library marks it, when its handlers end, as a durable store's claim is renewed while they run. Lapsing
    /// after a fixed time let a redelivery run a handler slower than it a second time, beside the first.
    /// </remarks>
    [Obsolete("Ignored: the in-memory webhook event store's claims hold until their handlers end, however long they run.")]
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>
/// The default store: a bounded map in memory. It does not survive a restart and is not shared between
/// instances; use a durable store (the Entity Framework Core package) for those.
/// </summary>
/// <remarks>
/// <para>
/// Every id lives for hours, so whatever object it costs, the garbage collector marks, and copies from generation to
/// generation, until it is forgotten: with a node and an entry object per id, a full store made the default server GC's
/// pauses the p99 latency of the whole endpoint. So the store keeps no object per id, and its per-id arrays hold no
/// reference: an id's UTF-8 bytes are copied into 16 KB pages, its record into a ring, and the ring's place into an
/// index, all three on the pinned object heap, which the collector neither scans nor copies.
/// </para>
/// <para>
/// The ring holds the records in the order their ids were first claimed (an id the pruner has to keep goes to the back
/// again), so it is also the pruner's queue: the oldest are at its head, and pruning never scans or sorts. The index is
/// a table of (hash, ring place) pairs with linear probing, eight to a cache line, so a new id costs one random memory
/// access (its index line); the rest it touches (the ring's back, the pages' end) the previous claim touched too. The
/// design it replaced, a
/// <see cref="Dictionary{TKey,TValue}"/> sharded 64 ways with a separate order queue, touched a bucket, an entry chain,
/// the shard's own ends and the queue: a whole delivery took 3–18% longer with it, and its four store operations at
/// capacity about twice as long (benchmarks/RESULTS.md). Pages die in the order their ids are forgotten (an id that has
/// to stay is copied forward when the pruner passes it), and are reused.
/// </para>
/// <para>
/// One lock guards it all. A claim holds it for a fraction of a microsecond, so a host would need millions of webhook
/// deliveries a second to queue on it; the pruner takes it for up to 64 records at a time. The claim that doubles the ring or
/// the index holds it while it copies them (a few milliseconds at 130,000 ids); that happens once per doubling, as the
/// store fills, and the arrays never shrink.
/// </para>
/// </remarks>
internal sealed partial class InMemoryWebhookEventStore(
    IOptions<InMemoryWebhookEventStoreOptions> options,
    TimeProvider timeProvider,
    ILogger<InMemoryWebhookEventStore> logger) : IWebhookEventStore
{
    /// <summary>The longest id taken, in characters: Stripe's ids are at most 255, the library's purchase ids 17 more.</summary>
    internal const int MaxIdLength = 1024;

    private const int PageSize = 16 * 1024;

    private const int InitialRecords = 256;

    private const int PruneBatch = 64;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Expired ids are swept at most once a minute (and only checked every 1024 new ids): sweeping on every claim cost
    // each claim a sixth of an HMAC for ids that expire after 72 hours.
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);

    private readonly InMemoryWebhookEventStoreOptions _options = options.Value;
    private readonly Lock _gate = new();

    // The index: (hash, ring place + 1) pairs, a power of two of them, at most half full; 0 in Place is an empty slot.
    private Slot[] _slots = NewSlots(InitialRecords * 2);

    // The ring: _count records from _head on, in the pruner's order (see the remarks), a power of two of places.
    private Record[] _records = NewRecords(InitialRecords);
    private int _head;
    private int _count;
    private int _purchases; // of the _count records, those of purchases, which the capacity forgets last
    private long _lastClaimId; // one per new id, so also how many new ids there have been

    // The pages of id bytes. Ids are written at the end (Stage): a lookup compares there, and a claim that adds the id
    // keeps it (Commit). A page is reused when the last id on it is forgotten.
    private readonly List<byte[]> _pages = [];
    private readonly List<int> _liveIds = [];
    private readonly Stack<int> _freePages = new();
    private int _endPage = -1;
    private int _endOffset = PageSize;

    // The steps that succeeded of ids that have more than one and are not processed yet, by the record's claim id:
    // rare, so kept aside and made on first use rather than a reference in every record.
    private Dictionary<long, HashSet<string>>? _steps;

    private int _pruning;
    private long _lastSweepTicks;

    // The claim id of the last new id when a pass over the capacity forgot nothing (every id in progress, or failed and
    // unexpired), or 0: the capacity starts no other pass until a sixteenth of it more ids came, since each pass walks them all.
    private long _fruitlessAt;

    // The last claims, by the id string they were made with (see RecordOf): a handful, enough for the claims of the
    // deliveries in flight on a few threads to be found by their marks.
    private readonly RecentClaim[] _recent = new RecentClaim[8];
    private int _nextRecent;

    // The store's times are only compared with each other (a retention of hours, a sweep a minute), so on the system clock
    // it reads the coarse monotonic count: about 9 ns against 30 ns for the wall clock on this kind of virtual machine,
    // four times per delivery, and deaf to the wall clock's steps. Any other TimeProvider (a test's) is read as given.
    private readonly bool _monotonic = timeProvider == TimeProvider.System;

    internal int Count => Volatile.Read(ref _count);

    /// <summary>Gets how many pages of id bytes the store holds (for tests).</summary>
    internal int PageCount
    {
        get
        {
            lock (_gate)
            {
                return _pages.Count;
            }
        }
    }

    /// <summary>Gets the latest prune (for tests); a prune may start the next before it ends.</summary>
    internal Task LastPrune { get; private set; } = Task.CompletedTask;

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        var hash = HashOf(id);
        var now = Now();
        int count;
        long claimId;
        lock (_gate)
        {
            var staged = Stage(id);
            var slot = Find(hash, staged, out var found);
            if (found)
            {
                var known = _slots[slot].Place - 1;
                ref var record = ref _records[known];
                switch (record.State)
                {
                    case EntryState.Processed:
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.AlreadyProcessed, record.Attempts));
                    case EntryState.InProgress:
                        // Held until marked, with no lease: its holder is in this process, and every holder marks its claim
                        // when its handlers end (processed, failed, or released when its caller went away). A claim the store
                        // let lapse would let a redelivery run a slow handler again beside itself.
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.InProgress, record.Attempts));
                    default:
                        record.State = EntryState.InProgress;
                        record.ClaimedAt = now;
                        record.UpdatedAt = now;
                        record.Attempts++;
                        Remember(id, known, record.ClaimId);
                        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, record.Attempts, CompletedSteps(record.ClaimId)));
                }
            }

            if (_count == _records.Length)
            {
                GrowRecords(); // re-points the slots in place: their indices, and `slot`, stay valid
            }

            if ((_count + 1) * 2 > _slots.Length)
            {
                GrowSlots();
                slot = Find(hash, staged, out _);
            }

            var place = (_head + _count) & (_records.Length - 1);
            var purchase = string.Equals(type, Fulfillment.FulfillmentRunner.PurchaseType, StringComparison.Ordinal);
            _records[place] = new Record
            {
                Hash = hash,
                Page = _endPage,
                Offset = _endOffset,
                Length = staged.Length,
                State = EntryState.InProgress,
                Attempts = 1,
                ClaimedAt = now,
                UpdatedAt = now,
                ClaimId = ++_lastClaimId,
                IsPurchase = purchase,
            };
            Commit(staged.Length);
            _slots[slot] = new Slot(hash, place + 1);
            Remember(id, place, _lastClaimId);
            count = ++_count;
            if (purchase)
            {
                _purchases++;
            }
            claimId = _lastClaimId;
        }

        PruneIfDue(now, count, claimId);
        return ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, 1));
    }

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            ref var record = ref RecordOf(id);
            if (!Unsafe.IsNullRef(ref record))
            {
                ref var steps = ref CollectionsMarshal.GetValueRefOrAddDefault(_steps ??= [], record.ClaimId, out _);
                (steps ??= new HashSet<string>(StringComparer.Ordinal)).Add(step);
            }
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => Mark(id, EntryState.Processed);

    /// <remarks>The error is not kept: nothing reads it back from memory, and the processor has logged it.</remarks>
    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => Mark(id, EntryState.Failed);

    private ValueTask Mark(string id, EntryState state)
    {
        var now = Now();
        lock (_gate)
        {
            ref var record = ref RecordOf(id);

            // Processed is final: a failure marked after it (by a caller that breaks the one-holder rule) must not turn it
            // back into Failed, or the next delivery would do the work a second time.
            if (!Unsafe.IsNullRef(ref record) && record.State != EntryState.Processed)
            {
                record.State = state;
                record.UpdatedAt = now;
                if (state == EntryState.Processed)
                {
                    _steps?.Remove(record.ClaimId);
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>The live record of <paramref name="id"/>, or a null reference when the store does not know it.</summary>
    /// <remarks>
    /// The processor and the fulfillment runner mark an id with the very string they claimed it with, so the last few
    /// claims are remembered by reference: a mark that finds its string there goes straight to the record, without
    /// hashing the id, encoding it or probing the index (two marks a delivery). A remembered place is trusted only while
    /// it lies in the ring's live part and its record still has the claim's id: the pruner moves records, and the ring
    /// is copied when it doubles. Any other string takes the index.
    /// </remarks>
    private ref Record RecordOf(string id)
    {
        foreach (ref readonly var recent in _recent.AsSpan())
        {
            // Remembered places stay below the ring's length: the ring never shrinks.
            if (recent.Id is { } remembered
                && ReferenceEquals(remembered, id)
                && ((recent.Place - _head) & (_records.Length - 1)) < _count
                && _records[recent.Place].ClaimId == recent.ClaimId)
            {
                return ref _records[recent.Place];
            }
        }

        var slot = Find(HashOf(id), Stage(id), out var found);
        return ref found ? ref _records[_slots[slot].Place - 1] : ref Unsafe.NullRef<Record>();
    }

    /// <summary>Remembers the claim of <paramref name="id"/> for <see cref="RecordOf"/>, in place of the oldest remembered.</summary>
    private void Remember(string id, int place, long claimId)
    {
        _recent[_nextRecent] = new RecentClaim(id, place, claimId);
        _nextRecent = (_nextRecent + 1) % _recent.Length;
    }

    /// <summary>Now, in ticks: only differences between two readings mean anything.</summary>
    private long Now() => _monotonic ? Environment.TickCount64 * TimeSpan.TicksPerMillisecond : timeProvider.GetUtcNow().UtcTicks;

    /// <summary>The id's hash, which picks its slot; refuses what no store could take.</summary>
    private static int HashOf(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (id.Length > MaxIdLength)
        {
            throw new ArgumentException($"The id is {id.Length} characters long; the in-memory event store takes ids of up to {MaxIdLength}.", nameof(id));
        }

        // Randomized per process: ids come from signed events, but a table that anyone could fill with colliding ids
        // would be one more thing to argue about.
        return string.GetHashCode(id, StringComparison.Ordinal);
    }

    private void PruneIfDue(long now, int count, long claimId)
    {
        var sweep = claimId % 1024 == 0 && now - Interlocked.Read(ref _lastSweepTicks) >= SweepInterval.Ticks;
        var fruitlessAt = Interlocked.Read(ref _fruitlessAt);
        if (!sweep && (count <= _options.Capacity || (fruitlessAt > 0 && claimId - fruitlessAt < Math.Max(1, _options.Capacity / 16))))
        {
            return;
        }

        // One pruner at a time, on the thread pool: a pass can forget or move thousands of ids, which must not hold up
        // the claim (and the webhook request) that happened to trigger it.
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

                Interlocked.Exchange(ref _fruitlessAt, dropped == 0 && Count > _options.Capacity ? Interlocked.Read(ref _lastClaimId) : 0);
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

    /// <summary>
    /// Walks the ids in the order they were first claimed, which is the order they age in: expired ones go, and past
    /// the capacity the oldest processed ones go too, down to 15/16 of it, purchases' only while they hold more than half
    /// of it; the walk stops at the first id that stays. Ids that cannot go yet (in progress, failed and not expired, or a
    /// purchase under that half) move to the back.
    /// </summary>
    /// <returns>How many ids it forgot; those forgotten for the capacity are added to <paramref name="tally"/>.</returns>
    private int Prune(long now, ref PruneTally tally)
    {
        Interlocked.Exchange(ref _lastSweepTicks, now);
        var cutoff = now - _options.Retention.Ticks;
        long toForget, purchasesToForget;
        int moves;
        lock (_gate)
        {
            var excess = (long)_count - _options.Capacity;
            toForget = excess > 0 ? excess + (_options.Capacity / 16) : 0;
            purchasesToForget = Math.Max(0, _purchases - (_options.Capacity / 2));
            moves = _count;
        }

        var dropped = 0;
        for (var stop = false; !stop;)
        {
            // Up to PruneBatch records per turn of the lock: a claim waits for that much work at most (tens of microseconds
            // at worst, each record a random index line and perhaps a page), and the lock's cache line crosses between the
            // pruner's core and the claims' once per batch, not per record.
            lock (_gate)
            {
                for (var turn = 0; turn < PruneBatch; turn++)
                {
                    if (_count == 0)
                    {
                        stop = true;
                        break;
                    }

                    ref var record = ref _records[_head];

                    // A claim in progress never expires: its handlers still run (see TryClaimAsync), and forgetting it would let
                    // the next delivery run them again.
                    var expired = record.State != EntryState.InProgress && record.UpdatedAt < cutoff;
                    if (expired || (toForget > 0 && record.State == EntryState.Processed && (!record.IsPurchase || purchasesToForget > 0)))
                    {
                        if (!expired)
                        {
                            toForget--;
                            if (record.IsPurchase)
                            {
                                purchasesToForget--;
                            }

                            tally = new PruneTally(tally.Forgotten + 1, Math.Max(tally.YoungestForgotten, record.UpdatedAt));
                        }

                        ForgetHead();
                        dropped++;
                    }
                    else if ((toForget > 0 || record.ClaimedAt < cutoff) && moves-- > 0)
                    {
                        MoveHeadToBack();
                    }
                    else
                    {
                        stop = true;
                        break;
                    }
                }
            }
        }

        return dropped;
    }

    /// <summary>Forgets the oldest record: its slot, its steps, its bytes.</summary>
    private void ForgetHead()
    {
        ref var record = ref _records[_head];
        _steps?.Remove(record.ClaimId);
        RemoveSlot(SlotOf(record.Hash, _head));
        Release(record.Page);
        _head = (_head + 1) & (_records.Length - 1);
        _count--;
        if (record.IsPurchase)
        {
            _purchases--;
        }
    }

    /// <summary>
    /// Moves the oldest record to the back of the ring, and its bytes to the pages' end, so that its old page can be
    /// reused once the rest of its ids go.
    /// </summary>
    private void MoveHeadToBack()
    {
        var record = _records[_head];
        var slot = SlotOf(record.Hash, _head);
        EnsureRoom(record.Length);
        _pages[record.Page].AsSpan(record.Offset, record.Length).CopyTo(_pages[_endPage].AsSpan(_endOffset));
        var oldPage = record.Page;
        record.Page = _endPage;
        record.Offset = _endOffset;
        Commit(record.Length);
        Release(oldPage);

        // With the ring full, the back is the head's own place: the record stays where it is and becomes the newest.
        var place = (_head + _count) & (_records.Length - 1);
        _head = (_head + 1) & (_records.Length - 1);
        _records[place] = record;
        _slots[slot] = new Slot(record.Hash, place + 1);
    }

    private IReadOnlyCollection<string>? CompletedSteps(long claimId) =>
        _steps is not null && _steps.TryGetValue(claimId, out var steps) ? [.. steps] : null;

    /// <summary>Finds the id's slot, or else the empty slot where it would go.</summary>
    private int Find(int hash, ReadOnlySpan<byte> id, out bool found)
    {
        var slots = _slots;
        var mask = slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            var slot = slots[i];
            if (slot.Place == 0)
            {
                found = false;
                return i;
            }

            if (slot.Hash == hash)
            {
                ref readonly var record = ref _records[slot.Place - 1];
                if (_pages[record.Page].AsSpan(record.Offset, record.Length).SequenceEqual(id))
                {
                    found = true;
                    return i;
                }
            }
        }
    }

    /// <summary>The slot that points at the record in ring place <paramref name="place"/>.</summary>
    private int SlotOf(int hash, int place)
    {
        var mask = _slots.Length - 1;
        for (var i = hash & mask; ; i = (i + 1) & mask)
        {
            if (_slots[i].Place == place + 1)
            {
                return i;
            }

            // Never so while the index and the ring agree; if they ever did not, fail rather than spin under the lock.
            if (_slots[i].Place == 0)
            {
                throw new InvalidOperationException("The in-memory event store's index lost a record.");
            }
        }
    }

    /// <summary>Empties a slot, moving back the slots after it that would no longer be found past the gap.</summary>
    private void RemoveSlot(int gap)
    {
        var mask = _slots.Length - 1;
        var next = gap;
        while (true)
        {
            next = (next + 1) & mask;
            var slot = _slots[next];
            if (slot.Place == 0)
            {
                break;
            }

            // The slot stays if its home lies cyclically in (gap, next]: probing from there never crosses the gap.
            var home = slot.Hash & mask;
            var stays = gap <= next ? gap < home && home <= next : gap < home || home <= next;
            if (!stays)
            {
                _slots[gap] = slot;
                gap = next;
            }
        }

        _slots[gap] = default;
    }

    private void GrowSlots()
    {
        var old = _slots;
        var slots = NewSlots(old.Length * 2);
        var mask = slots.Length - 1;
        foreach (var slot in old)
        {
            if (slot.Place != 0)
            {
                var i = slot.Hash & mask;
                while (slots[i].Place != 0)
                {
                    i = (i + 1) & mask;
                }

                slots[i] = slot;
            }
        }

        _slots = slots;
    }

    /// <summary>Doubles the ring, its head moving to place 0, and points the slots at the records' new places.</summary>
    private void GrowRecords()
    {
        var old = _records;
        var oldMask = old.Length - 1;
        var records = NewRecords(old.Length * 2);
        for (var i = 0; i < _count; i++)
        {
            records[i] = old[(_head + i) & oldMask];
        }

        var slots = _slots;
        for (var i = 0; i < slots.Length; i++)
        {
            if (slots[i].Place != 0)
            {
                slots[i] = new Slot(slots[i].Hash, ((slots[i].Place - 1 - _head) & oldMask) + 1);
            }
        }

        _records = records;
        _head = 0;
    }

    // Pinned, and free of references: the collector never marks through them, nor copies them from generation to generation.
    private static Slot[] NewSlots(int length) => GC.AllocateArray<Slot>(length, pinned: true);

    private static Record[] NewRecords(int length) => GC.AllocateUninitializedArray<Record>(length, pinned: true);

    /// <summary>Writes the id at the pages' end, without keeping it there.</summary>
    /// <exception cref="ArgumentException">The id is not valid UTF-16 (a lone surrogate).</exception>
    private ReadOnlySpan<byte> Stage(string id)
    {
        EnsureRoom(StrictUtf8.GetMaxByteCount(id.Length));
        var end = _pages[_endPage].AsSpan(_endOffset);
        try
        {
            return end[..StrictUtf8.GetBytes(id, end)];
        }
        catch (EncoderFallbackException exception)
        {
            throw new ArgumentException("The id is not valid UTF-16: it holds a lone surrogate.", nameof(id), exception);
        }
    }

    /// <summary>Keeps the <paramref name="length"/> bytes that were written last at the pages' end.</summary>
    private void Commit(int length)
    {
        _endOffset += length;
        _liveIds[_endPage]++;
    }

    /// <summary>Lets the bytes of a forgotten or moved id go; its page is reused once none of its ids is left.</summary>
    private void Release(int page)
    {
        if (--_liveIds[page] == 0 && page != _endPage)
        {
            _freePages.Push(page);
        }
    }

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

        // The end moves only once the new page is there: if allocating it throws, the end stays where it was.
        if (!_freePages.TryPop(out var page))
        {
            _pages.Add(GC.AllocateUninitializedArray<byte>(PageSize, pinned: true));
            _liveIds.Add(0);
            page = _pages.Count - 1;
        }

        _endPage = page;
        _endOffset = 0;
    }

    private enum EntryState : byte
    {
        InProgress,
        Processed,
        Failed,
    }

    /// <summary>A recent claim: the id string it was made with, its record's ring place then, and the record's claim id.</summary>
    private readonly record struct RecentClaim(string? Id, int Place, long ClaimId);

    /// <summary>An index slot: the id's hash, and its record's ring place plus one (0: empty).</summary>
    private readonly record struct Slot(int Hash, int Place);

    /// <summary>
    /// What is known of one id, and where its bytes are. Times are ticks of the store's clock (<see cref="Now"/>);
    /// <see cref="ClaimId"/> is unique in the store, and keys the record's completed steps.
    /// </summary>
    private struct Record
    {
        public int Hash;
        public int Page;
        public int Offset;
        public int Length;
        public int Attempts;
        public EntryState State;

        /// <summary>Whether the id is a purchase's (<see cref="Fulfillment.FulfillmentRunner.PurchaseType"/>): forgotten for the capacity last (see <see cref="Prune"/>). Beside the state, in what was padding.</summary>
        public bool IsPurchase;
        public long ClaimedAt;
        public long UpdatedAt;
        public long ClaimId;
    }

    /// <summary>What the passes of one prune forgot for the capacity, for its one warning.</summary>
    private readonly record struct PruneTally(int Forgotten, long YoungestForgotten);

    private static partial class Log
    {
        [LoggerMessage(EventId = 410, EventName = "EventStoreCapacityReached", Level = LogLevel.Warning,
            Message = "The in-memory webhook event store reached its capacity of {Capacity} ids and forgot the {Count} oldest processed ones (the youngest forgotten was {Age} old). Duplicates older than that are no longer recognised: raise InMemoryWebhookEventStoreOptions.Capacity or use a durable store")]
        public static partial void CapacityReached(ILogger logger, int capacity, int count, TimeSpan age);
    }
}
