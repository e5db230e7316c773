namespace Wavhaven.Payments.EntityFrameworkCore.Webhooks;

/// <summary>
/// One row of <c>wavhaven_webhook_events</c>: a Stripe event (or a purchase claim, <c>checkout.session:…</c>)
/// and where it stands. Written with SQL statements that are atomic on their own, never through the change
/// tracker, so that the app's <c>SaveChanges</c> cannot touch it.
/// </summary>
/// <remarks>
/// Unsealed, with virtual properties: an app whose context uses EF Core's lazy-loading or change-tracking proxies has them
/// checked for every entity type of its model, these included. The stores never materialize one (they project), so no
/// proxy of it is ever made.
/// </remarks>
internal class WebhookEventRecord
{
    public virtual string Id { get; set; } = string.Empty;

    public virtual string Type { get; set; } = string.Empty;

    /// <summary>When Stripe created the event; <see langword="null"/> for purchase claims.</summary>
    public virtual DateTime? Created { get; set; }

    /// <summary>The raw event as received (UTF-8 JSON); <see langword="null"/> for purchase claims.</summary>
    public virtual string? Payload { get; set; }

    /// <summary>received, processing, processed, failed or dead (<see cref="WebhookEventStates"/>).</summary>
    public virtual string State { get; set; } = WebhookEventStates.Received;

    public virtual int Attempts { get; set; }

    public virtual string? LastError { get; set; }

    /// <summary>The handler steps that succeeded in attempts that failed later, one per line.</summary>
    public virtual string? CompletedSteps { get; set; }

    /// <summary>Who holds the claim: a random token per claim, so that a holder whose lease ran out cannot complete.</summary>
    public virtual string? LeaseToken { get; set; }

    /// <summary>When the claim is presumed abandoned.</summary>
    public virtual DateTime? LeaseExpiresAt { get; set; }

    /// <summary>When the queue worker takes the event next; set only for queued events.</summary>
    public virtual DateTime? NextAttemptAt { get; set; }

    public virtual DateTime ReceivedAt { get; set; }

    public virtual DateTime UpdatedAt { get; set; }

    public virtual DateTime? ProcessedAt { get; set; }
}

/// <summary>The values of <see cref="WebhookEventRecord.State"/>.</summary>
internal static class WebhookEventStates
{
    public const string Received = "received";
    public const string Processing = "processing";
    public const string Processed = "processed";
    public const string Failed = "failed";
    public const string Dead = "dead";

    public static string From(Payments.Webhooks.WebhookEventState state) => state switch
    {
        Payments.Webhooks.WebhookEventState.Received => Received,
        Payments.Webhooks.WebhookEventState.Processing => Processing,
        Payments.Webhooks.WebhookEventState.Processed => Processed,
        Payments.Webhooks.WebhookEventState.Failed => Failed,
        Payments.Webhooks.WebhookEventState.Dead => Dead,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static Payments.Webhooks.WebhookEventState Parse(string state) => state switch
    {
        Received => Payments.Webhooks.WebhookEventState.Received,
        Processing => Payments.Webhooks.WebhookEventState.Processing,
        Processed => Payments.Webhooks.WebhookEventState.Processed,
        Failed => Payments.Webhooks.WebhookEventState.Failed,
        Dead => Payments.Webhooks.WebhookEventState.Dead,
        _ => throw new InvalidOperationException($"Unknown webhook event state '{state}' in the database."),
    };
}
