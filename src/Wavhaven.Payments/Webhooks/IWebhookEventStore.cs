namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Remembers which events (and purchases) were handled, so that each runs once although Stripe delivers
/// at least once. A claim is atomic: of concurrent claims of one id, exactly one wins.
/// </summary>
/// <remarks>
/// Besides event ids, the library claims one id per purchase (<c>checkout.session:cs_…</c>), so that a
/// purchase is fulfilled once whichever of its events, or the success page, comes first.
/// </remarks>
public interface IWebhookEventStore
{
    /// <summary>
    /// Claims an id for processing. Returns <see cref="WebhookClaimStatus.Claimed"/> for a new id, for one whose
    /// last attempt failed, and for one whose claim's lease ran out (a crashed worker); otherwise says why not.
    /// </summary>
    /// <param name="id">The event id, or a purchase id.</param>
    /// <param name="type">The event type, stored for inspection.</param>
    /// <param name="payload">The raw event, for stores that keep an event log; empty for purchases.</param>
    /// <param name="cancellationToken">The token.</param>
    ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default);

    /// <summary>Records that one step (handler) of a claimed id succeeded, so a redelivery after a later step's failure skips it.</summary>
    ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default);

    /// <summary>Marks a claimed id processed: later claims answer <see cref="WebhookClaimStatus.AlreadyProcessed"/>.</summary>
    ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Marks a claimed id failed: the next delivery may claim it again.</summary>
    ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default);
}

/// <summary>The answer to a claim.</summary>
public enum WebhookClaimStatus
{
    /// <summary>The caller owns the id and must mark it processed or failed.</summary>
    Claimed,

    /// <summary>The id was processed before: run nothing.</summary>
    AlreadyProcessed,

    /// <summary>Someone else is processing the id right now: run nothing, and let Stripe retry later.</summary>
    InProgress,
}

/// <summary>The answer to a claim, with what earlier attempts completed.</summary>
/// <param name="Status">Whether the caller owns the id.</param>
/// <param name="Attempt">The attempt this claim starts (1 for the first).</param>
/// <param name="CompletedSteps">Steps that earlier, failed attempts completed.</param>
public readonly record struct WebhookClaim(WebhookClaimStatus Status, int Attempt, IReadOnlyCollection<string>? CompletedSteps = null)
{
    /// <summary>Gets whether a step completed in an earlier attempt.</summary>
    public bool IsStepCompleted(string step) => CompletedSteps is { Count: > 0 } steps && steps.Contains(step);
}

/// <summary>How the library describes a failure in the store's record of an event or purchase.</summary>
internal static class WebhookFailure
{
    /// <summary>The exception's type and message: what an operator needs to find the cause in the logs.</summary>
    public static string Describe(Exception exception) => exception.GetType().Name + ": " + exception.Message;
}
