using System.Text;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Support;

/// <summary>
/// A queue in memory with the durable stores' claim rules, on the given clock: a claim holds for <see cref="Lease"/>, is
/// renewed every third of it, and an event whose lease ran out is claimed again (another attempt). So a worker that let a
/// running handler's claim lapse would start the event a second time, as it would on PostgreSQL.
/// </summary>
public sealed class LeasedWebhookQueue(TimeProvider clock) : IWebhookEventQueue, IRenewableWebhookEventStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _events = new(StringComparer.Ordinal);

    public static TimeSpan Lease { get; } = TimeSpan.FromSeconds(30);

    public TimeSpan ClaimRenewalPeriod => Lease / 3;

    /// <summary>Gets how many renewals found their claim held.</summary>
    public int Renewals { get; private set; }

    /// <summary>Adds a <c>charge.refunded</c> event, due now; returns its id.</summary>
    public string Add(string id)
    {
        var payload = Encoding.UTF8.GetBytes(
            "{\"id\":\"" + id + "\",\"object\":\"event\",\"type\":\"charge.refunded\",\"livemode\":false,\"created\":1763000000,\"data\":{\"object\":{\"id\":\"ch_1\",\"object\":\"charge\"}}}");
        lock (_gate)
        {
            _events.Add(id, new Entry { Type = "charge.refunded", Payload = payload, NextAttemptAt = clock.GetUtcNow() });
        }

        return id;
    }

    public WebhookEventInfo Info(string id)
    {
        lock (_gate)
        {
            var entry = _events[id];
            return new WebhookEventInfo(id, entry.Type, entry.State, entry.Attempts, entry.LastError, null, DateTimeOffset.MinValue, DateTimeOffset.MinValue, null, entry.NextAttemptAt);
        }
    }

    public ValueTask<QueuedWebhookEvent?> ClaimNextAsync(CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            foreach (var (id, entry) in _events)
            {
                var due = entry.State is WebhookEventState.Received or WebhookEventState.Failed && entry.NextAttemptAt <= now;
                var lapsed = entry.State == WebhookEventState.Processing && entry.LeaseExpiresAt <= now;
                if (due || lapsed)
                {
                    entry.State = WebhookEventState.Processing;
                    entry.Attempts++;
                    entry.LeaseExpiresAt = now + Lease;
                    entry.NextAttemptAt = null;
                    return ValueTask.FromResult<QueuedWebhookEvent?>(new QueuedWebhookEvent(id, entry.Type, entry.Payload, new WebhookClaim(WebhookClaimStatus.Claimed, entry.Attempts)));
                }
            }
        }

        return ValueTask.FromResult<QueuedWebhookEvent?>(null);
    }

    public ValueTask<bool> RenewClaimAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            var entry = _events[id];
            if (entry.State != WebhookEventState.Processing)
            {
                return ValueTask.FromResult(false);
            }

            entry.LeaseExpiresAt = clock.GetUtcNow() + Lease;
            Renewals++;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask ScheduleRetryAsync(string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        Set(id, WebhookEventState.Failed, error, nextAttemptAt);

    public ValueTask MarkDeadAsync(string id, string error, CancellationToken cancellationToken = default) =>
        Set(id, WebhookEventState.Dead, error, null);

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) =>
        Set(id, WebhookEventState.Processed, null, null);

    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) =>
        Set(id, WebhookEventState.Failed, error, null);

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask<WebhookEventInfo?> FindAsync(string id, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<WebhookEventInfo?>(Info(id));

    public ValueTask<bool> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<int> PruneProcessedEventsAsync(DateTimeOffset processedBefore, int limit, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    private ValueTask Set(string id, WebhookEventState state, string? error, DateTimeOffset? nextAttemptAt)
    {
        lock (_gate)
        {
            var entry = _events[id];
            entry.State = state;
            entry.LastError = error ?? entry.LastError;
            entry.NextAttemptAt = nextAttemptAt;
        }

        return ValueTask.CompletedTask;
    }

    private sealed class Entry
    {
        public required string Type { get; init; }

        public required byte[] Payload { get; init; }

        public WebhookEventState State { get; set; } = WebhookEventState.Received;

        public int Attempts { get; set; }

        public string? LastError { get; set; }

        public DateTimeOffset? NextAttemptAt { get; set; }

        public DateTimeOffset LeaseExpiresAt { get; set; }
    }
}
