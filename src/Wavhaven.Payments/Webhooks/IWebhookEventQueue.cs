namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// A durable event store that can also queue events: queued processing stores each verified event and
/// answers Stripe at once, and a hosted worker claims due events one by one, across every instance of the
/// app that shares the store.
/// </summary>
/// <remarks>
/// Implemented by the Entity Framework Core package's store. A claim holds a lease: an event claimed by a
/// worker that died becomes claimable again once the lease has run out. The completion of a claimed event
/// is <see cref="IWebhookEventStore.MarkProcessedAsync"/>, called on the store instance that claimed it.
/// </remarks>
public interface IWebhookEventQueue : IWebhookEventStore
{
    /// <summary>
    /// Stores a verified event for the worker, due now. An id stored before is a duplicate and changes nothing, with one
    /// exception: an event processed inline that failed or is still running (before the app switched to queued processing,
    /// or on another instance during a rolling deploy) is not the worker's yet, and is handed to it now: due at once if it
    /// failed, and if it is running, due when it fails or its holder's lease runs out (its success settles it).
    /// </summary>
    /// <param name="stripeEvent">The event, with its raw body.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns><see langword="true"/> when the event was stored or handed to the worker; <see langword="false"/> for a duplicate.</returns>
    ValueTask<bool> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the queued event that is due first (a new or failed event whose next attempt is due, or a queued
    /// event whose claim's lease ran out), counts an attempt, and leases it for the store's claim lease
    /// (<c>Stripe:WebhookClaimLease</c>, as every claim). Of concurrent callers, on any instance, each gets a
    /// different event.
    /// </summary>
    /// <remarks>
    /// Queued events are those stored or handed over by <see cref="EnqueueAsync"/> and those put back by
    /// <see cref="ReplayAsync"/>: never an id that only <see cref="IWebhookEventStore.TryClaimAsync"/> claimed (an inline
    /// delivery's event, or a purchase, <c>checkout.session:…</c>), even once its lease ran out. Such a claim is the next
    /// delivery's (or success page's) to take over; the worker releases a purchase's claim it is handed, as failed.
    /// </remarks>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The claimed event, or <see langword="null"/> when none is due.</returns>
    ValueTask<QueuedWebhookEvent?> ClaimNextAsync(CancellationToken cancellationToken = default);

    /// <summary>Records a failed attempt of a claimed event and schedules the next one.</summary>
    /// <param name="id">The event id.</param>
    /// <param name="error">What went wrong (no secrets).</param>
    /// <param name="nextAttemptAt">When the event is due again.</param>
    /// <param name="cancellationToken">The token.</param>
    ValueTask ScheduleRetryAsync(string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Hands a claimed event back for later without counting the attempt: its handlers did not fail, they could not run
    /// yet (its purchase was being fulfilled elsewhere). Waiting must not use up the attempts that real failures get.
    /// The default schedules a retry, which counts.
    /// </summary>
    /// <param name="id">The event id.</param>
    /// <param name="reason">Why it waits (no secrets).</param>
    /// <param name="nextAttemptAt">When the event is due again.</param>
    /// <param name="cancellationToken">The token.</param>
    ValueTask ReleaseAsync(string id, string reason, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) =>
        ScheduleRetryAsync(id, reason, nextAttemptAt, cancellationToken);

    /// <summary>Records the last failed attempt of a claimed event: it is not tried again until it is replayed.</summary>
    /// <param name="id">The event id.</param>
    /// <param name="error">What went wrong (no secrets).</param>
    /// <param name="cancellationToken">The token.</param>
    ValueTask MarkDeadAsync(string id, string error, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a dead or failed event, or one whose claim's lease ran out (its holder died), back in the queue, due now, with
    /// its attempts counted from zero.
    /// </summary>
    /// <param name="id">The event id.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns><see langword="false"/> when there is no such event, or it is not dead or failed and its claim is live.</returns>
    ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Gets what the store knows of an event.</summary>
    /// <param name="id">The event id.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The event's record, or <see langword="null"/>.</returns>
    ValueTask<WebhookEventInfo?> FindAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Lists events in one state, most recently updated first.</summary>
    /// <param name="state">The state.</param>
    /// <param name="limit">How many at most.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The events.</returns>
    ValueTask<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Measures the queue's backlog: the events waiting for a worker (new or failed, with a next attempt, and claimed
    /// ones whose lease ran out), how many of them have been due since before <paramref name="overdueBefore"/>, and when
    /// the longest-waiting one fell due.
    /// </summary>
    /// <remarks>
    /// A store should answer from the whole queue (the Entity Framework Core store counts in one query). This default,
    /// for stores written before it, reads the 1,000 most recently updated new and failed events with
    /// <see cref="ListAsync"/>: behind a larger backlog it sees only the newest, and so neither the count nor the oldest;
    /// and it does not see claims whose lease ran out.
    /// </remarks>
    /// <param name="overdueBefore">Events due before this are overdue.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The backlog.</returns>
    async ValueTask<WebhookQueueBacklog> GetBacklogAsync(DateTimeOffset overdueBefore, CancellationToken cancellationToken = default)
    {
        var waiting = (await ListAsync(WebhookEventState.Received, 1000, cancellationToken).ConfigureAwait(false))
            .Concat(await ListAsync(WebhookEventState.Failed, 1000, cancellationToken).ConfigureAwait(false))
            .Where(e => e.NextAttemptAt is not null)
            .ToList();
        return new WebhookQueueBacklog(
            waiting.Count,
            waiting.Count(e => e.NextAttemptAt < overdueBefore),
            waiting.Count == 0 ? null : waiting.Min(e => e.NextAttemptAt));
    }

    /// <summary>
    /// Lists inline deliveries that failed and that Stripe no longer redelivers: failed events without a next attempt
    /// (not purchase claims) created (else received) before <paramref name="createdBefore"/>. They are the events updated
    /// longest ago, so a store should find them over the whole table (the Entity Framework Core store does).
    /// </summary>
    /// <remarks>
    /// This default, for stores written before it, filters the 1,000 most recently updated failed events read with
    /// <see cref="ListAsync"/>: behind more newer failures it finds none.
    /// </remarks>
    /// <param name="createdBefore">Events created before this are past Stripe's redeliveries.</param>
    /// <param name="limit">How many at most.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The events.</returns>
    async ValueTask<IReadOnlyList<WebhookEventInfo>> ListGivenUpAsync(DateTimeOffset createdBefore, int limit, CancellationToken cancellationToken = default) =>
        [.. (await ListAsync(WebhookEventState.Failed, 1000, cancellationToken).ConfigureAwait(false))
            .Where(e => e.NextAttemptAt is null && e.Type != Fulfillment.FulfillmentRunner.PurchaseType && (e.Created ?? e.ReceivedAt) < createdBefore)
            .Take(limit)];

    /// <summary>
    /// Deletes events (never purchase claims, which guard fulfillments for good) that were processed before
    /// <paramref name="processedBefore"/>, at most <paramref name="limit"/> of them.
    /// </summary>
    /// <param name="processedBefore">The cutoff.</param>
    /// <param name="limit">How many at most, so that one call stays short.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>How many were deleted.</returns>
    ValueTask<int> PruneProcessedEventsAsync(DateTimeOffset processedBefore, int limit, CancellationToken cancellationToken = default);
}

/// <summary>The events waiting for a queue worker.</summary>
/// <param name="Queued">How many events wait: new or failed with a next attempt, or claimed with a lease that ran out.</param>
/// <param name="Overdue">How many of them have been due since before the time asked about.</param>
/// <param name="OldestDueAt">When the longest-waiting one fell due; <see langword="null"/> when none waits.</param>
public readonly record struct WebhookQueueBacklog(int Queued, int Overdue, DateTimeOffset? OldestDueAt);

/// <summary>An event claimed from the queue.</summary>
/// <param name="Id">The event id.</param>
/// <param name="Type">The event type.</param>
/// <param name="Payload">The event's raw body, as received.</param>
/// <param name="Claim">The claim: the attempt it starts and the steps earlier attempts completed.</param>
public sealed record QueuedWebhookEvent(string Id, string Type, ReadOnlyMemory<byte> Payload, WebhookClaim Claim);

/// <summary>Where an event stands in a durable store.</summary>
public enum WebhookEventState
{
    /// <summary>Stored by queued processing, waiting for the worker.</summary>
    Received,

    /// <summary>Claimed: its handlers are running (or its claim's lease has yet to run out).</summary>
    Processing,

    /// <summary>Its handlers succeeded; a redelivery is a duplicate.</summary>
    Processed,

    /// <summary>An attempt failed: Stripe's redelivery (inline) or the worker's next attempt (queued) tries again.</summary>
    Failed,

    /// <summary>Every attempt failed: nothing runs until it is replayed.</summary>
    Dead,
}

/// <summary>What a durable store knows of one event.</summary>
/// <param name="Id">The event id (or a purchase id, <c>checkout.session:…</c>).</param>
/// <param name="Type">The event type.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Attempts">Attempts made (since the last replay).</param>
/// <param name="LastError">What the last failed attempt threw, or <see langword="null"/>.</param>
/// <param name="Created">When Stripe created the event, when known.</param>
/// <param name="ReceivedAt">When the store first saw it.</param>
/// <param name="UpdatedAt">When its record last changed.</param>
/// <param name="ProcessedAt">When it was processed, or <see langword="null"/>.</param>
/// <param name="NextAttemptAt">When the worker tries it next (queued events), or <see langword="null"/>.</param>
public sealed record WebhookEventInfo(
    string Id,
    string Type,
    WebhookEventState State,
    int Attempts,
    string? LastError,
    DateTimeOffset? Created,
    DateTimeOffset ReceivedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? ProcessedAt,
    DateTimeOffset? NextAttemptAt);
