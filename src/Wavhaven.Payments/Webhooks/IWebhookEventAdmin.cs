namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Inspects the durable event log and replays dead events: for an admin page or an operator's tool. Needs
/// a store that implements <see cref="IWebhookEventQueue"/> (the Entity Framework Core package's).
/// </summary>
public interface IWebhookEventAdmin
{
    /// <summary>Gets what the store knows of an event.</summary>
    /// <param name="eventId">The event id (<c>evt_…</c>).</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The event's record, or <see langword="null"/> when the store has never seen it.</returns>
    /// <exception cref="InvalidOperationException">The event store is not a durable queue.</exception>
    Task<WebhookEventInfo?> GetAsync(string eventId, CancellationToken cancellationToken = default);

    /// <summary>Lists events in one state (e.g. <see cref="WebhookEventState.Dead"/>), most recently updated first.</summary>
    /// <param name="state">The state.</param>
    /// <param name="limit">How many at most (1 to 1000).</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The events.</returns>
    /// <exception cref="InvalidOperationException">The event store is not a durable queue.</exception>
    Task<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit = 100, CancellationToken cancellationToken = default);

    /// <summary>
    /// Puts a dead (or failed) event back in the queue with a fresh set of attempts, and wakes this instance's
    /// worker: it runs the handlers that have not succeeded yet. Fix the cause first. An event whose claim's lease ran out
    /// (its process died in its handlers) is put back too.
    /// </summary>
    /// <param name="eventId">The event id (<c>evt_…</c>).</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns><see langword="true"/> when it was put back; <see langword="false"/> when the store has no such event, or it is neither dead nor failed nor held by a claim whose lease ran out.</returns>
    /// <exception cref="InvalidOperationException">The event store is not a durable queue.</exception>
    Task<bool> ReplayAsync(string eventId, CancellationToken cancellationToken = default);
}
