using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Diagnostics;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Runs queued events: claims the event due first, runs its handlers through the same dispatcher as inline
/// processing, and records the outcome: processed, a retry after a capped exponential backoff, or dead after
/// <see cref="WebhookQueueOptions.MaxAttempts"/> attempts. Up to <see cref="WebhookQueueOptions.MaxConcurrency"/>
/// events run at once; every instance that shares the store runs one worker, and the store's claims make them
/// share the work.
/// </summary>
/// <remarks>
/// It lives in the core, beside the dispatcher it drives, so that the retry policy, logs and telemetry are the
/// library's and a store only provides <see cref="IWebhookEventQueue"/>. It runs whenever the registered store
/// is a queue: in <see cref="WebhookProcessingMode.Inline"/> mode the only queued events are replayed ones.
/// </remarks>
internal sealed partial class WebhookQueueWorker(
    IServiceScopeFactory scopes,
    WebhookDispatcher dispatcher,
    WebhookQueueSignal signal,
    IOptions<StripePaymentsOptions> options,
    TimeProvider timeProvider,
    ILogger<WebhookQueueWorker> logger) : BackgroundService, IHostedLifecycleService
{
    private readonly ConcurrentDictionary<Task, bool> _running = new();

    // Cancelled as the host's stop begins, before any hosted service is stopped: the web server is stopped first, and its
    // drain may take the whole HostOptions.ShutdownTimeout (a server-sent events stream, a WebSocket), after which this
    // worker's StopAsync would no longer wait for the events it runs to be handed back before the process ends. Not
    // disposed: it has no timer, and the stop may cancel it after the host disposed this worker.
    private readonly CancellationTokenSource _hostStopping = new();

    public static string NotAQueueMessage(IWebhookEventStore store) =>
        $"Stripe:WebhookProcessing is Queued, but the registered event store ({store.GetType().Name}) cannot queue events durably. " +
        "Register a durable store, e.g. .UseEntityFrameworkStores<TContext>() from Wavhaven.Payments.EntityFrameworkCore, or set Stripe:WebhookProcessing to Inline.";

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        bool isQueue;
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            isQueue = store is IWebhookEventQueue;
            if (!isQueue && options.Value.WebhookProcessing == WebhookProcessingMode.Queued)
            {
                throw new InvalidOperationException(NotAQueueMessage(store));
            }
        }

        if (isQueue)
        {
            await base.StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops taking events and cancels the running ones' handlers as soon as the host's stop begins.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        _hostStopping.Cancel();
        return Task.CompletedTask;
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _hostStopping.Token);
        await RunUntilStoppedAsync(stopping.Token).ConfigureAwait(false);
    }

    private async Task RunUntilStoppedAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var queued = settings.WebhookProcessing == WebhookProcessingMode.Queued;
        var concurrency = queued ? settings.WebhookQueue.MaxConcurrency : 1;
        Log.Started(logger, settings.WebhookProcessing, concurrency);
        // Not disposed: the continuations of events in flight release it, possibly after this method returns.
        var slots = new SemaphoreSlim(concurrency, concurrency);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                // A slot freed as the host stops can still be granted to this wait (the semaphore hands it to a waiter whose
                // cancellation has not finished): claim nothing then, or the stopping worker would start one more event.
                stoppingToken.ThrowIfCancellationRequested();
                var wake = signal.Next;
                var started = await TryStartNextAsync(settings, slots, stoppingToken).ConfigureAwait(false);
                if (!started)
                {
                    slots.Release();
                    await WaitAsync(wake, settings.WebhookQueue.PollInterval, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Events in flight see the stopping token: each records itself before the worker ends.
        await Task.WhenAll(_running.Keys).ConfigureAwait(false);
    }

    /// <summary>Claims the next due event and starts it; false when none is due (or the store failed).</summary>
    private async Task<bool> TryStartNextAsync(StripePaymentsOptions settings, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        var scope = scopes.CreateAsyncScope();
        IWebhookEventQueue queue;
        QueuedWebhookEvent? next;
        try
        {
            queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            next = await queue.ClaimNextAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            await scope.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        catch (Exception exception)
        {
            Log.ClaimFailed(logger, exception);
            await scope.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        if (next is null)
        {
            await scope.DisposeAsync().ConfigureAwait(false);
            return false;
        }

        var task = RunAsync(scope, queue, next, settings, stoppingToken);
        _running.TryAdd(task, true);
        _ = task.ContinueWith(
            (finished, state) =>
            {
                _running.TryRemove(finished, out _);
                ((SemaphoreSlim)state!).Release();
            },
            slots,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        return true;
    }

    private async Task RunAsync(AsyncServiceScope scope, IWebhookEventQueue queue, QueuedWebhookEvent queued, StripePaymentsOptions settings, CancellationToken stoppingToken)
    {
        await Task.Yield();
        await using (scope.ConfigureAwait(false))
        {
            using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.WebhookQueue", ActivityKind.Consumer);
            activity?.SetTag("stripe.event.id", queued.Id);
            activity?.SetTag("stripe.event.type", queued.Type);
            activity?.SetTag("attempt", queued.Claim.Attempt);
            var (outcome, timedOut) = await RunCoreAsync(scope.ServiceProvider, queue, queued, settings, stoppingToken).ConfigureAwait(false);
            activity?.SetTag("outcome", outcome);
            if (outcome is "retry" or "dead")
            {
                activity?.SetStatus(ActivityStatusCode.Error);
            }

            var tags = new TagList { { "stripe.event.type", queued.Type }, { "outcome", outcome } };
            if (timedOut)
            {
                // A failure like any other (retry or dead, so that counts by outcome stay whole), of a kind worth telling apart.
                activity?.SetTag("error.type", "timeout");
                tags.Add("error.type", "timeout");
            }

            PaymentsTelemetry.QueueAttempts.Add(1, tags);
        }
    }

    private async Task<(string Outcome, bool TimedOut)> RunCoreAsync(IServiceProvider services, IWebhookEventQueue queue, QueuedWebhookEvent queued, StripePaymentsOptions settings, CancellationToken stoppingToken)
    {
        if (queued.Type == Fulfillment.FulfillmentRunner.PurchaseType)
        {
            // A purchase's claim, whose lease ran out (its delivery's or success page's process died), handed out by a store
            // that takes every lapsed claim: it is no event, and only a delivery or the success page can fulfil it. Released,
            // so that the next one does; marked dead, it would answer "already fulfilled" to every claim from then on.
            try
            {
                await queue.MarkFailedAsync(queued.Id, "Abandoned: its fulfillment's process stopped before the handler returned; the next delivery or success page fulfils it.", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception storeException)
            {
                Log.RecordFailed(logger, storeException, queued.Id);
            }

            return ("ignored", false);
        }

        var attempt = queued.Claim.Attempt;
        if (attempt > settings.WebhookQueue.MaxAttempts)
        {
            // Its last attempts never reported back (a graceful stop does not count the last one): each worker that ran it
            // died, or its handler hung, until the lease ran out. A poison event must not crash-loop the instances for good.
            try
            {
                await queue.MarkDeadAsync(queued.Id, $"Abandoned: its {attempt - 1} attempts are used up, the last without an outcome (its worker stopped, or its handler outlived Stripe:WebhookClaimLease).", CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception storeException)
            {
                Log.RecordFailed(logger, storeException, queued.Id);
            }

            Log.Abandoned(logger, queued.Type, queued.Id, attempt - 1);
            return ("dead", false);
        }

        ClaimRenewal? renewal = null;
        HandlerCancellation? handlers = null;
        try
        {
            StripeEvent stripeEvent;
            try
            {
                stripeEvent = StripeEvent.Parse(queued.Payload);
                if (!string.Equals(stripeEvent.Id, queued.Id, StringComparison.Ordinal))
                {
                    // A row edited by hand: its handlers would mark another id processed, never this one, and run at every lease.
                    throw new FormatException($"The stored payload is event '{stripeEvent.Id}', not '{queued.Id}'.");
                }
            }
            catch (FormatException exception)
            {
                // Cannot happen for events the processor stored (only to a row edited by hand); retrying could not help.
                await queue.MarkDeadAsync(queued.Id, "FormatException: " + exception.Message, CancellationToken.None).ConfigureAwait(false);
                Log.Dead(logger, exception, queued.Type, queued.Id, attempt);
                return ("dead", false);
            }

            // The handlers' one token: cancelled when the host stops, when the claim is lost all the same (a renewal that could
            // not reach the store for a whole lease: another worker runs them now), and at Stripe:WebhookQueue:HandlerTimeout.
            // Whatever cancels it, the attempt ends only when the handlers return: while they run, the claim is renewed (by a
            // store that renews), so the event is never run twice at once.
            handlers = new HandlerCancellation(stoppingToken, settings.WebhookQueue.HandlerTimeout, timeProvider, logger, queued);
            renewal = ClaimRenewal.Start(queue, queued.Id, timeProvider, logger, cancelOnLoss: handlers.Source);
            bool handled;
            try
            {
                handled = await dispatcher.RunAsync(services, stripeEvent, queued.Claim, queue, waitForSubscription: false, handlers.Source.Token).ConfigureAwait(false);
            }
            finally
            {
                renewal?.Dispose();
                handlers.Dispose();
            }

            Log.Processed(logger, queued.Type, queued.Id, handled, attempt);
            return (handled ? "processed" : "ignored", false);
        }
        catch (Exception) when (renewal is { Lost: true } && !stoppingToken.IsCancellationRequested)
        {
            // Another worker holds the event now: nothing of this attempt is recorded (its marks are fenced by the lost claim,
            // and its writes rolled back), and the attempt it counted is the new holder's to settle.
            Log.ClaimLost(logger, queued.Type, queued.Id, attempt);
            return ("lost", false);
        }
        catch (RetryLaterException exception)
        {
            // The purchase is being fulfilled elsewhere, or this instance handles another event of the subscription: try again
            // soon, and do not count this round as an attempt.
            await ScheduleRetrySafelyAsync(queue, queued, exception.Message, timeProvider.GetUtcNow() + settings.WebhookQueue.RetryDelay, countsAsAttempt: false).ConfigureAwait(false);
            return ("retry", false);
        }
        catch (Exception exception) when (handlers is { TimedOut: true })
        {
            // The limit cancelled the handlers before the host's stop or a lost claim did: whatever they threw then (most
            // often an OperationCanceledException), the attempt failed, and counts, as any other failure.
            var error = string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"Timeout: the handlers ran past Stripe:WebhookQueue:HandlerTimeout ({settings.WebhookQueue.HandlerTimeout}) and were cancelled; then {WebhookFailure.Describe(exception)}");
            return (await FailAsync(queue, queued, settings, exception, error).ConfigureAwait(false), true);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: hand the event back now rather than when the lease runs out. The last attempt is given back, so
            // that a deploy does not leave the event over its MaxAttempts, which only a lost attempt does.
            await ScheduleRetrySafelyAsync(queue, queued, "Interrupted: the host stopped during the attempt.", timeProvider.GetUtcNow(), countsAsAttempt: attempt < settings.WebhookQueue.MaxAttempts).ConfigureAwait(false);
            Log.Interrupted(logger, queued.Type, queued.Id);
            return ("retry", false);
        }
        catch (Exception exception)
        {
            return (await FailAsync(queue, queued, settings, exception, WebhookFailure.Describe(exception)).ConfigureAwait(false), false);
        }
    }

    /// <summary>Records a failed attempt: a retry after the backoff, or dead after the last attempt; returns the outcome.</summary>
    private async Task<string> FailAsync(IWebhookEventQueue queue, QueuedWebhookEvent queued, StripePaymentsOptions settings, Exception exception, string error)
    {
        var attempt = queued.Claim.Attempt;
        if (attempt >= settings.WebhookQueue.MaxAttempts)
        {
            try
            {
                await queue.MarkDeadAsync(queued.Id, error, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception storeException)
            {
                Log.RecordFailed(logger, storeException, queued.Id);
            }

            Log.Dead(logger, exception, queued.Type, queued.Id, attempt);
            return "dead";
        }

        var delay = settings.WebhookQueue.GetRetryDelay(attempt);
        await ScheduleRetrySafelyAsync(queue, queued, error, timeProvider.GetUtcNow() + delay).ConfigureAwait(false);
        Log.Retrying(logger, exception, queued.Type, queued.Id, attempt, settings.WebhookQueue.MaxAttempts, delay);
        return "retry";
    }

    /// <summary>
    /// Records a retry, or with <paramref name="countsAsAttempt"/> off hands the event back without counting the attempt;
    /// when even that fails (the database is down), the lease brings the event back.
    /// </summary>
    private async Task ScheduleRetrySafelyAsync(IWebhookEventQueue queue, QueuedWebhookEvent queued, string error, DateTimeOffset nextAttemptAt, bool countsAsAttempt = true)
    {
        try
        {
            await (countsAsAttempt
                ? queue.ScheduleRetryAsync(queued.Id, error, nextAttemptAt, CancellationToken.None)
                : queue.ReleaseAsync(queued.Id, error, nextAttemptAt, CancellationToken.None)).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.RecordFailed(logger, exception, queued.Id);
        }
    }

    private async Task WaitAsync(Task wake, TimeSpan pollInterval, CancellationToken stoppingToken)
    {
        using var delayCancellation = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var delay = Task.Delay(pollInterval, timeProvider, delayCancellation.Token);
        await Task.WhenAny(wake, delay).ConfigureAwait(false);
        await delayCancellation.CancelAsync().ConfigureAwait(false);
        stoppingToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// The source of one attempt's handlers' token: linked to the host's stop, cancelled by <see cref="ClaimRenewal"/> when the
    /// claim is lost, and with a <see cref="WebhookQueueOptions.HandlerTimeout"/> by a timer when the limit passes. It tells
    /// whether the limit came first, so that a stop or a loss is never taken for a timeout, nor a timeout for them.
    /// </summary>
    private sealed class HandlerCancellation : IDisposable
    {
        private readonly ILogger _logger;
        private readonly QueuedWebhookEvent _queued;
        private readonly TimeSpan _timeout;
        private readonly ITimer? _deadline;
        private volatile bool _timedOut;
        private volatile bool _disposed;

        public HandlerCancellation(CancellationToken stoppingToken, TimeSpan timeout, TimeProvider timeProvider, ILogger logger, QueuedWebhookEvent queued)
        {
            _logger = logger;
            _queued = queued;
            _timeout = timeout;
            Source = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            // The timer rather than CancelAfter: a linked source's CancelAfter would ignore the TimeProvider, and this callback
            // must know whether the stop or a loss came first.
            _deadline = timeout > TimeSpan.Zero
                ? timeProvider.CreateTimer(static state => ((HandlerCancellation)state!).Expire(), this, timeout, Timeout.InfiniteTimeSpan)
                : null;
        }

        /// <summary>Gets the source of the handlers' token.</summary>
        public CancellationTokenSource Source { get; }

        /// <summary>Gets whether the limit cancelled the handlers (neither the stop nor a lost claim had before).</summary>
        public bool TimedOut => _timedOut;

        public void Dispose()
        {
            _disposed = true;
            _deadline?.Dispose();
            Source.Dispose();
        }

        private void Expire()
        {
            if (_disposed || Source.IsCancellationRequested)
            {
                return;
            }

            _timedOut = true;
            // Logged once, as the limit passes: a handler that ignores its token gives no other sign while it runs on.
            Log.TimedOut(_logger, _queued.Type, _queued.Id, _timeout, _queued.Claim.Attempt);
            try
            {
                Source.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The handlers returned meanwhile.
            }
            catch (AggregateException exception)
            {
                // A callback a handler registered on its token threw (every other callback ran, and the token is cancelled):
                // the handler's bug, which fails its attempt as any other; out of this timer callback it would end the process.
                Log.CancellationCallbackFailed(_logger, exception, _queued.Type, _queued.Id);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 629, EventName = "WebhookQueueHandlerTimeout", Level = LogLevel.Warning, Message = "The handlers of queued Stripe event {EventType} {EventId} ran past Stripe:WebhookQueue:HandlerTimeout ({Timeout}) in attempt {Attempt}: their CancellationToken is cancelled. The attempt ends when they return: failed, unless they ignored the token and succeeded (then the event is processed). Until they do, the event keeps its claim and a worker slot, and does not run again")]
        public static partial void TimedOut(ILogger logger, string eventType, string eventId, TimeSpan timeout, int attempt);

        [LoggerMessage(EventId = 619, EventName = "WebhookQueueCancellationCallbackFailed", Level = LogLevel.Warning, Message = "A callback that a handler of queued Stripe event {EventType} {EventId} registered on its CancellationToken threw when Stripe:WebhookQueue:HandlerTimeout cancelled it")]
        public static partial void CancellationCallbackFailed(ILogger logger, Exception exception, string eventType, string eventId);

        [LoggerMessage(EventId = 620, EventName = "WebhookQueueStarted", Level = LogLevel.Information, Message = "Webhook queue worker started ({Mode} processing, up to {Concurrency} events at once)")]
        public static partial void Started(ILogger logger, WebhookProcessingMode mode, int concurrency);

        [LoggerMessage(EventId = 621, EventName = "WebhookQueueProcessed", Level = LogLevel.Information, Message = "Queued Stripe event {EventType} {EventId} handled (handlers interested: {Handled}, attempt {Attempt})")]
        public static partial void Processed(ILogger logger, string eventType, string eventId, bool handled, int attempt);

        [LoggerMessage(EventId = 622, EventName = "WebhookQueueRetrying", Level = LogLevel.Warning, Message = "A handler of queued Stripe event {EventType} {EventId} failed (attempt {Attempt} of {MaxAttempts}); trying again in {Delay}")]
        public static partial void Retrying(ILogger logger, Exception exception, string eventType, string eventId, int attempt, int maxAttempts, TimeSpan delay);

        [LoggerMessage(EventId = 623, EventName = "WebhookQueueDead", Level = LogLevel.Error, Message = "Queued Stripe event {EventType} {EventId} failed its last attempt ({Attempt}) and is now dead. Fix the cause, then replay it with IWebhookEventAdmin.ReplayAsync(\"{EventId}\")")]
        public static partial void Dead(ILogger logger, Exception exception, string eventType, string eventId, int attempt);

        [LoggerMessage(EventId = 624, EventName = "WebhookQueueClaimFailed", Level = LogLevel.Error, Message = "The webhook queue worker could not claim the next event; it tries again at its next poll. Check the database connection")]
        public static partial void ClaimFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 625, EventName = "WebhookQueueRecordFailed", Level = LogLevel.Error, Message = "The outcome of queued Stripe event {EventId} could not be recorded; the event becomes claimable again when its lease runs out")]
        public static partial void RecordFailed(ILogger logger, Exception exception, string eventId);

        [LoggerMessage(EventId = 627, EventName = "WebhookQueueAbandoned", Level = LogLevel.Error, Message = "Queued Stripe event {EventType} {EventId} is now dead: its attempts ran out ({Attempts}) without an outcome, each one's worker dying or stopping (or, with an event store that does not renew its claims, its handler running past Stripe:WebhookClaimLease). Fix the cause, then replay it with IWebhookEventAdmin.ReplayAsync(\"{EventId}\")")]
        public static partial void Abandoned(ILogger logger, string eventType, string eventId, int attempts);

        [LoggerMessage(EventId = 628, EventName = "WebhookQueueClaimLost", Level = LogLevel.Warning, Message = "Queued Stripe event {EventType} {EventId} was taken by another worker while its handlers ran (attempt {Attempt}): this attempt records nothing, and the other worker's settles the event")]
        public static partial void ClaimLost(ILogger logger, string eventType, string eventId, int attempt);

        [LoggerMessage(EventId = 626, EventName = "WebhookQueueInterrupted", Level = LogLevel.Information, Message = "Queued Stripe event {EventType} {EventId} was interrupted by the host's shutdown and is due again now")]
        public static partial void Interrupted(ILogger logger, string eventType, string eventId);
    }
}
