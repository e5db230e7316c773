namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Verifies, deduplicates and dispatches one webhook delivery. <c>MapStripeWebhook</c> calls it for ASP.NET
/// Core apps; other hosts (serverless functions, say) can call it with the raw body and the
/// <c>Stripe-Signature</c> header and answer with <see cref="WebhookResult.StatusCode"/>.
/// </summary>
public interface IWebhookProcessor
{
    /// <summary>Processes one delivery.</summary>
    /// <param name="body">
    /// The request body exactly as received: never a re-serialized copy. Events handed to handlers refer to
    /// this memory, so it must not be reused afterwards (handlers may keep events).
    /// </param>
    /// <param name="signatureHeader">The <c>Stripe-Signature</c> header.</param>
    /// <param name="cancellationToken">
    /// The request's token: handlers get it. When it is cancelled (the sender went away), nothing is claimed or run, or the
    /// event is released for Stripe's redelivery, and the call throws rather than return a result.
    /// </param>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled before or during the handlers.</exception>
    Task<WebhookResult> ProcessAsync(ReadOnlyMemory<byte> body, string? signatureHeader, CancellationToken cancellationToken = default);
}

/// <summary>What became of a delivery.</summary>
public enum WebhookOutcome
{
    /// <summary>Handlers ran and succeeded. HTTP 200.</summary>
    Processed,

    /// <summary>Verified, but no handler is interested in it. HTTP 200.</summary>
    Ignored,

    /// <summary>The event was processed (or queued) before; nothing ran. HTTP 200.</summary>
    Duplicate,

    /// <summary>The event (or its purchase) is being processed by another delivery right now; nothing ran. HTTP 409, so Stripe tries again later.</summary>
    InProgress,

    /// <summary>A handler threw. HTTP 500, so Stripe delivers the event again.</summary>
    Failed,

    /// <summary>The signature is missing, malformed, stale or wrong; nothing ran. HTTP 400.</summary>
    InvalidSignature,

    /// <summary>The body is not a Stripe event; nothing ran. HTTP 400.</summary>
    InvalidPayload,

    /// <summary>Queued processing stored the event; the queue worker runs its handlers. HTTP 200.</summary>
    Queued,
}

/// <summary>The result of processing one delivery.</summary>
/// <param name="Outcome">What became of it.</param>
/// <param name="Reason">A short reason, safe to send back to Stripe (no details of handler failures).</param>
/// <param name="EventId">The event id, once the body was read.</param>
/// <param name="EventType">The event type, once the body was read.</param>
public sealed record WebhookResult(WebhookOutcome Outcome, string Reason, string? EventId = null, string? EventType = null)
{
    /// <summary>Gets the HTTP status to answer Stripe with: 2xx only when the event needs no redelivery.</summary>
    public int StatusCode => Outcome switch
    {
        WebhookOutcome.Processed or WebhookOutcome.Ignored or WebhookOutcome.Duplicate or WebhookOutcome.Queued => 200,
        WebhookOutcome.InProgress => 409,
        WebhookOutcome.Failed => 500,
        _ => 400,
    };
}
