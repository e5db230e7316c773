namespace Wavhaven.Payments.Webhooks;

/// <summary>How the webhook endpoint handles a verified event.</summary>
public enum WebhookProcessingMode
{
    /// <summary>
    /// Claim the event, run its handlers, and answer Stripe when they are done: 200 once they succeeded, 500
    /// when one failed, so that Stripe delivers the event again. Works with any event store.
    /// </summary>
    Inline,

    /// <summary>
    /// Store the event and answer 200 at once; a hosted worker runs the handlers, retries failures with
    /// capped exponential backoff and moves an event to <see cref="WebhookEventState.Dead"/> after
    /// <see cref="WebhookQueueOptions.MaxAttempts"/> attempts. Needs a durable store that implements
    /// <see cref="IWebhookEventQueue"/> (the Entity Framework Core package's) and a host that runs hosted services.
    /// </summary>
    Queued,
}

/// <summary>Settings of the worker that runs queued events (<c>Stripe:WebhookQueue</c>).</summary>
public sealed class WebhookQueueOptions
{
    /// <summary>Gets or sets how many attempts an event gets before it is moved to <see cref="WebhookEventState.Dead"/>. Defaults to 12.</summary>
    public int MaxAttempts { get; set; } = 12;

    /// <summary>
    /// Gets or sets the wait after the first failed attempt; each further failure doubles it, up to
    /// <see cref="MaxRetryDelay"/>. Defaults to 30 seconds.
    /// </summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the longest wait between two attempts. Defaults to 1 hour.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Gets or sets how often an idle worker looks for due events: events enqueued by other instances, and
    /// retries that came due. Events received by this instance are picked up at once. Defaults to 5 seconds.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how many events one instance handles at the same time. Defaults to 4.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>
    /// Gets or sets how long a queued event's handlers may run before their <see cref="CancellationToken"/> is cancelled;
    /// <see cref="TimeSpan.Zero"/> (the default) sets no limit. An attempt that then fails counts as failed, as any other.
    /// A handler that ignores its token keeps running: the worker waits for it and renews its claim as for any running
    /// handler, so the event does not run again meanwhile. It applies to every event the worker runs (in
    /// <see cref="WebhookProcessingMode.Inline"/> mode, replayed ones); inline deliveries run under their request.
    /// </summary>
    public TimeSpan HandlerTimeout { get; set; }

    /// <summary>Gets the wait before the attempt after <paramref name="failedAttempts"/> failed ones: <see cref="RetryDelay"/> doubled per earlier failure, at most <see cref="MaxRetryDelay"/>.</summary>
    /// <param name="failedAttempts">How many attempts failed so far (1 after the first failure).</param>
    /// <returns>The wait.</returns>
    public TimeSpan GetRetryDelay(int failedAttempts)
    {
        var exponent = Math.Clamp(failedAttempts - 1, 0, 30);
        var ticks = RetryDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxRetryDelay.Ticks ? MaxRetryDelay : TimeSpan.FromTicks((long)ticks);
    }
}
