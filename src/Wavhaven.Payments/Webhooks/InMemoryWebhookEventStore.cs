using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Wavhaven.Payments.Webhooks;

/// <summary>Settings of the default, in-memory <see cref="IWebhookEventStore"/>.</summary>
public sealed class InMemoryWebhookEventStoreOptions
{
    /// <summary>Gets or sets how long a processed id is remembered. Stripe retries for three days; the default is 72 hours.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(72);

    /// <summary>Gets or sets how many ids are remembered at most; past it, the oldest processed ones are forgotten first.</summary>
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
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly InMemoryWebhookEventStoreOptions _options = options.Value;
    private long _claimsSincePrune;

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
                PruneIfDue(now);
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

    private void PruneIfDue(DateTimeOffset now)
    {
        if (Interlocked.Increment(ref _claimsSincePrune) % 1024 != 0 && _entries.Count <= _options.Capacity)
        {
            return;
        }

        var cutoff = now - _options.Retention;
        foreach (var (id, entry) in _entries)
        {
            if (entry.State != EntryState.InProgress && entry.UpdatedAt < cutoff)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(id, entry));
            }
        }

        var excess = _entries.Count - _options.Capacity;
        if (excess > 0)
        {
            var oldest = _entries.Where(pair => pair.Value.State == EntryState.Processed)
                .OrderBy(pair => pair.Value.UpdatedAt)
                .Take(excess)
                .ToList();
            foreach (var pair in oldest)
            {
                _entries.TryRemove(pair);
            }

            if (oldest.Count > 0)
            {
                Log.CapacityReached(logger, _options.Capacity, oldest.Count, now - oldest[^1].Value.UpdatedAt);
            }
        }
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
