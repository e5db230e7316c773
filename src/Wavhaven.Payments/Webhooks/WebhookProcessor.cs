using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Verify the signature over the raw body, read the envelope, claim the event id, dispatch, record the
/// outcome. Nothing is parsed before the signature is verified, and nothing runs for an event already
/// processed or in flight.
/// </summary>
internal sealed partial class WebhookProcessor : IWebhookProcessor, IDisposable
{
    private readonly IServiceScopeFactory _scopes;
    private readonly WebhookDispatcher _dispatcher;
    private readonly WebhookQueueSignal _signal;
    private readonly WebhookProcessingMode _mode;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly WebhookSigningKey[] _keys;
    private readonly TimeSpan _tolerance;
    private readonly ConcurrentDictionary<string, bool> _reportedVersions = new(StringComparer.Ordinal);

    public WebhookProcessor(IServiceScopeFactory scopes, WebhookDispatcher dispatcher, WebhookQueueSignal signal, IOptions<StripePaymentsOptions> options, TimeProvider timeProvider, ILogger<WebhookProcessor> logger)
    {
        _scopes = scopes;
        _dispatcher = dispatcher;
        _signal = signal;
        _mode = options.Value.WebhookProcessing;
        _timeProvider = timeProvider;
        _logger = logger;
        _keys = [.. options.Value.WebhookSecrets.Where(secret => !string.IsNullOrEmpty(secret)).Select(secret => new WebhookSigningKey(Encoding.UTF8.GetBytes(secret), reuseState: true))];
        _tolerance = options.Value.WebhookTolerance;
    }

    public async Task<WebhookResult> ProcessAsync(ReadOnlyMemory<byte> body, string? signatureHeader, CancellationToken cancellationToken = default)
    {
        // A clock read costs about 50 ns on a virtual machine: the duration is timed only when something records it.
        var timed = PaymentsTelemetry.WebhookDuration.Enabled;
        var started = timed ? _timeProvider.GetTimestamp() : 0;
        using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.Webhook", ActivityKind.Consumer);
        StripeEvent? stripeEvent = null;
        WebhookResult result;
        try
        {
            result = Verify(body, signatureHeader, out stripeEvent) ?? await DispatchAsync(stripeEvent!, body, activity, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // Still one delivery: counted and timed, and its activity ended as what it was (the store failing is a failure,
            // the caller leaving a cancellation), before the exception goes on.
            var cancelled = exception is OperationCanceledException && cancellationToken.IsCancellationRequested;
            activity?.SetTag("error.type", exception.GetType().FullName);
            Record(activity, timed, started, stripeEvent?.Id, stripeEvent?.Type, cancelled ? "cancelled" : "failed", error: true, exception.GetType().Name);
            throw;
        }

        Record(
            activity,
            timed,
            started,
            result.EventId,
            result.EventType,
            PaymentsTelemetry.OutcomeTag(result.Outcome),
            result.Outcome is WebhookOutcome.Failed or WebhookOutcome.InvalidSignature or WebhookOutcome.InvalidPayload,
            result.Reason);
        return result;
    }

    /// <summary>The reason a body over the cap is refused with.</summary>
    internal const string BodyTooLarge = "body too large";

    /// <summary>
    /// Records a delivery that the endpoint refused for its body's size (413, over <c>Stripe:WebhookMaxBodySize</c>) as
    /// one refused for its signature is recorded: counted and timed with outcome <c>invalid_signature</c>, since nothing of
    /// it could be verified, and its activity an error. Timed from the refusal, as a delivery is timed from the call that
    /// hands over its body: what the sender took to send it is not the processing's.
    /// </summary>
    internal void RecordBodyTooLarge()
    {
        var timed = PaymentsTelemetry.WebhookDuration.Enabled;
        var started = timed ? _timeProvider.GetTimestamp() : 0;
        using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.Webhook", ActivityKind.Consumer);
        Record(activity, timed, started, eventId: null, eventType: null, PaymentsTelemetry.OutcomeTag(WebhookOutcome.InvalidSignature), error: true, BodyTooLarge);
    }

    private void Record(Activity? activity, bool timed, long started, string? eventId, string? eventType, string outcome, bool error, string? description)
    {
        var tags = new TagList { { "stripe.event.type", eventType ?? "unknown" }, { "outcome", outcome } };
        PaymentsTelemetry.WebhookEvents.Add(1, tags);
        if (timed)
        {
            PaymentsTelemetry.WebhookDuration.Record(_timeProvider.GetElapsedTime(started).TotalSeconds, tags);
        }

        if (activity is not null)
        {
            activity.SetTag("stripe.event.id", eventId);
            activity.SetTag("stripe.event.type", eventType);
            activity.SetTag("outcome", outcome);
            if (error)
            {
                activity.SetStatus(ActivityStatusCode.Error, description);
            }
        }
    }

    /// <summary>Checks the signature and reads the envelope: a rejection, or <see langword="null"/> and the event.</summary>
    private WebhookResult? Verify(ReadOnlyMemory<byte> body, string? signatureHeader, out StripeEvent? stripeEvent)
    {
        stripeEvent = null;
        if (_keys.Length == 0)
        {
            Log.NoSecret(_logger);
            return new WebhookResult(WebhookOutcome.InvalidSignature, "no webhook secret is configured");
        }

        var signature = StripeWebhookSignature.Verify(body.Span, signatureHeader, _keys, _tolerance, _timeProvider.GetUtcNow());
        if (signature != WebhookSignatureStatus.Valid)
        {
            var reason = Describe(signature);
            Log.SignatureRejected(_logger, reason);
            return new WebhookResult(WebhookOutcome.InvalidSignature, reason);
        }

        try
        {
            stripeEvent = StripeEvent.Parse(body);
        }
        catch (FormatException exception)
        {
            Log.PayloadRejected(_logger, exception.Message);
            return new WebhookResult(WebhookOutcome.InvalidPayload, exception.Message);
        }

        if (stripeEvent.ApiVersion is { } version && !string.Equals(version, StripeApiVersion.Current, StringComparison.Ordinal) && _reportedVersions.TryAdd(version, true))
        {
            Log.ApiVersionMismatch(_logger, version, StripeApiVersion.Current);
        }

        return null;
    }

    private async ValueTask<WebhookResult> DispatchAsync(StripeEvent stripeEvent, ReadOnlyMemory<byte> body, Activity? activity, CancellationToken cancellationToken)
    {
        // A caller that has given up (its token cancelled) gets nothing claimed, queued or run on its behalf.
        cancellationToken.ThrowIfCancellationRequested();
        if (_mode == WebhookProcessingMode.Queued)
        {
            return await EnqueueAsync(stripeEvent, cancellationToken).ConfigureAwait(false);
        }

        // Disposed in a finally rather than by `await using (scope.ConfigureAwait(false))`, which boxes the struct scope.
        var scope = _scopes.CreateAsyncScope();
        try
        {
            var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            var claim = await store.TryClaimAsync(stripeEvent.Id, stripeEvent.Type, body, cancellationToken).ConfigureAwait(false);
            switch (claim.Status)
            {
                case WebhookClaimStatus.AlreadyProcessed:
                    Log.Duplicate(_logger, stripeEvent.Type, stripeEvent.Id);
                    return new WebhookResult(WebhookOutcome.Duplicate, "duplicate", stripeEvent.Id, stripeEvent.Type);
                case WebhookClaimStatus.InProgress:
                    Log.InFlight(_logger, stripeEvent.Type, stripeEvent.Id);
                    return new WebhookResult(WebhookOutcome.InProgress, "in progress", stripeEvent.Id, stripeEvent.Type);
            }

            // Renewed while the handlers run, by a store that renews its claims (null for one that does not, at no cost). The
            // handlers' token is the request's: a handler that would honour a cancellation on a lost claim has had the
            // request's own long before (Stripe gives up on a delivery well within a first renewal period), so a lost claim
            // cancels nothing here, and no linked token is made for every delivery.
            var renewal = ClaimRenewal.Start(store, stripeEvent.Id, _timeProvider, _logger);
            try
            {
                bool handled;
                try
                {
                    handled = await _dispatcher.RunAsync(scope.ServiceProvider, stripeEvent, claim, store, waitForSubscription: true, cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    renewal?.Dispose();
                }

                Log.Handled(_logger, stripeEvent.Type, stripeEvent.Id, handled, claim.Attempt);
                return handled
                    ? new WebhookResult(WebhookOutcome.Processed, "processed", stripeEvent.Id, stripeEvent.Type)
                    : new WebhookResult(WebhookOutcome.Ignored, "ignored", stripeEvent.Id, stripeEvent.Type);
            }
            catch (Exception) when (renewal is { Lost: true } && !cancellationToken.IsCancellationRequested)
            {
                // Another delivery holds the event now and runs its handlers: this attempt's writes rolled back with its mark,
                // and it has nothing to record (its marks are fenced by the lost claim). Stripe retries, and finds it done.
                Log.InFlight(_logger, stripeEvent.Type, stripeEvent.Id);
                return new WebhookResult(WebhookOutcome.InProgress, "in progress", stripeEvent.Id, stripeEvent.Type);
            }
            catch (RetryLaterException exception)
            {
                await store.MarkFailedAsync(stripeEvent.Id, exception.Message, CancellationToken.None).ConfigureAwait(false);
                Log.InFlight(_logger, stripeEvent.Type, stripeEvent.Id);
                return new WebhookResult(WebhookOutcome.InProgress, "in progress", stripeEvent.Id, stripeEvent.Type);
            }
            catch (OperationCanceledException exception) when (cancellationToken.IsCancellationRequested)
            {
                // The caller went away (the request was aborted): not a handler failure. The claim is released at once, so
                // that the redelivery runs the handlers, and the cancellation goes on as such.
                await store.MarkFailedAsync(stripeEvent.Id, WebhookFailure.Describe(exception), CancellationToken.None).ConfigureAwait(false);
                Log.Cancelled(_logger, stripeEvent.Type, stripeEvent.Id);
                throw;
            }
            catch (Exception exception)
            {
                // The delivery ends in the handler's exception, caught here: its span says which, as for one that escapes.
                activity?.SetTag("error.type", exception.GetType().FullName);
                await store.MarkFailedAsync(stripeEvent.Id, WebhookFailure.Describe(exception), CancellationToken.None).ConfigureAwait(false);
                Log.HandlerFailed(_logger, exception, stripeEvent.Type, stripeEvent.Id, claim.Attempt);
                return new WebhookResult(WebhookOutcome.Failed, "handler failed", stripeEvent.Id, stripeEvent.Type);
            }
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Releases the keys' HMAC states.</summary>
    public void Dispose()
    {
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    private async Task<WebhookResult> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        var scope = _scopes.CreateAsyncScope();
        try
        {
            var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            if (store is not IWebhookEventQueue queue)
            {
                throw new InvalidOperationException(WebhookQueueWorker.NotAQueueMessage(store));
            }

            if (!await queue.EnqueueAsync(stripeEvent, cancellationToken).ConfigureAwait(false))
            {
                Log.Duplicate(_logger, stripeEvent.Type, stripeEvent.Id);
                return new WebhookResult(WebhookOutcome.Duplicate, "duplicate", stripeEvent.Id, stripeEvent.Type);
            }

            _signal.Pulse();
            Log.Queued(_logger, stripeEvent.Type, stripeEvent.Id);
            return new WebhookResult(WebhookOutcome.Queued, "queued", stripeEvent.Id, stripeEvent.Type);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string Describe(WebhookSignatureStatus status) => status switch
    {
        WebhookSignatureStatus.HeaderMissing => "missing Stripe-Signature header",
        WebhookSignatureStatus.HeaderMalformed => "malformed Stripe-Signature header",
        WebhookSignatureStatus.NoV1Signature => "no v1 signature in Stripe-Signature header",
        WebhookSignatureStatus.TimestampOutsideTolerance => "signature timestamp outside the tolerance",
        _ => "no signature matches the webhook secret",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 600, EventName = "WebhookHandled", Level = LogLevel.Information, Message = "Stripe event {EventType} {EventId} handled (handlers interested: {Handled}, attempt {Attempt})")]
        public static partial void Handled(ILogger logger, string eventType, string eventId, bool handled, int attempt);

        [LoggerMessage(EventId = 601, EventName = "WebhookDuplicate", Level = LogLevel.Debug, Message = "Stripe event {EventType} {EventId} was already processed; nothing runs")]
        public static partial void Duplicate(ILogger logger, string eventType, string eventId);

        [LoggerMessage(EventId = 602, EventName = "WebhookInFlight", Level = LogLevel.Information, Message = "Stripe event {EventType} {EventId} is being processed elsewhere right now; answering 409 so that Stripe retries it later")]
        public static partial void InFlight(ILogger logger, string eventType, string eventId);

        [LoggerMessage(EventId = 603, EventName = "WebhookHandlerFailed", Level = LogLevel.Error, Message = "A handler of Stripe event {EventType} {EventId} failed (attempt {Attempt}); answering 500 so that Stripe delivers it again")]
        public static partial void HandlerFailed(ILogger logger, Exception exception, string eventType, string eventId, int attempt);

        [LoggerMessage(EventId = 604, EventName = "WebhookSignatureRejected", Level = LogLevel.Warning, Message = "Webhook rejected: {Reason}. If Stripe sent it, check that Stripe:WebhookSecrets holds this endpoint's signing secret and that the server clock is right")]
        public static partial void SignatureRejected(ILogger logger, string reason);

        [LoggerMessage(EventId = 605, EventName = "WebhookPayloadRejected", Level = LogLevel.Warning, Message = "Webhook rejected: {Reason}")]
        public static partial void PayloadRejected(ILogger logger, string reason);

        [LoggerMessage(EventId = 606, EventName = "WebhookApiVersionMismatch", Level = LogLevel.Warning, Message = "Stripe sends events at API version {EventVersion}, but this library reads {PinnedVersion}. Events are still handled; set the webhook endpoint's API version to {PinnedVersion} in Stripe's dashboard so that payload shapes match")]
        public static partial void ApiVersionMismatch(ILogger logger, string eventVersion, string pinnedVersion);

        [LoggerMessage(EventId = 608, EventName = "WebhookQueued", Level = LogLevel.Debug, Message = "Stripe event {EventType} {EventId} stored for the queue worker; answering 200")]
        public static partial void Queued(ILogger logger, string eventType, string eventId);

        [LoggerMessage(EventId = 609, EventName = "WebhookCancelled", Level = LogLevel.Information, Message = "Handling of Stripe event {EventType} {EventId} was cancelled by its caller (the request was aborted); the event is released for Stripe's redelivery")]
        public static partial void Cancelled(ILogger logger, string eventType, string eventId);

        [LoggerMessage(EventId = 607, EventName = "WebhookSecretMissing", Level = LogLevel.Error, Message = "A webhook arrived, but Stripe:WebhookSecrets is empty, so it cannot be verified. Set it to the endpoint's signing secret (whsec_…)")]
        public static partial void NoSecret(ILogger logger);
    }
}
