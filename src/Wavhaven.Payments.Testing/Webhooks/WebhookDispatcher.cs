using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Testing.State;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Testing.Webhooks;

/// <summary>
/// Delivers events to webhook endpoints in the background, one at a time in emission order: each attempt is
/// signed afresh, a non-2xx answer, a redirect, a timeout or a connection error is retried after the next
/// configured delay (at the back of the queue, so later events may arrive first, as at Stripe) until the
/// attempts run out.
/// </summary>
internal sealed partial class WebhookDispatcher : IAsyncDisposable
{
    private readonly Channel<Delivery> _queue = Channel.CreateUnbounded<Delivery>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly HttpClient _http;
    private readonly TimeProvider _signingClock;
    private readonly Func<DateTimeOffset> _emulatorNow;
    private readonly IReadOnlyList<TimeSpan> _retryDelays;
    private readonly int _maxAttempts;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly List<WebhookDelivery> _log = [];
    private readonly List<TaskCompletionSource> _idleWaiters = [];
    private bool _disposed; // under _pendingLock
    private readonly Lock _pendingLock = new();
    private readonly Task _loop;
    private int _pending;

    public WebhookDispatcher(StripeEmulatorOptions options, Func<DateTimeOffset> emulatorNow, ILogger logger)
    {
        _signingClock = options.TimeProvider;
        _emulatorNow = emulatorNow;
        _retryDelays = [.. options.WebhookRetryDelays];
        _maxAttempts = options.MaxDeliveryAttempts;
        _timeout = options.WebhookTimeout;
        _logger = logger;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("Stripe/1.0");
        _loop = Task.Run(RunAsync);
    }

    public IReadOnlyList<WebhookDelivery> Deliveries
    {
        get
        {
            lock (_log)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>Queues an event for each endpoint; its payload is rendered once, at the endpoint's API version.</summary>
    public void Enqueue(EventRecord record, IReadOnlyList<WebhookEndpoint> endpoints)
    {
        foreach (var endpoint in endpoints)
        {
            var payload = Encoding.UTF8.GetBytes(record.ToJson(endpoint.ApiVersion).ToJsonString(JsonFormat.Indented));
            lock (_pendingLock)
            {
                _pending++;
            }

            _queue.Writer.TryWrite(new Delivery(record, endpoint, payload));
        }
    }

    /// <summary>Completes when no delivery is pending: every one queued before or during the wait has succeeded or given up.</summary>
    /// <exception cref="ObjectDisposedException">The emulator is disposed, or was while this waited.</exception>
    public async Task WaitForIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_pendingLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pending == 0)
            {
                return;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _idleWaiters.Add(waiter);
        }

        try
        {
            await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (_pendingLock)
            {
                _idleWaiters.Remove(waiter);
            }

            throw;
        }
        catch (TimeoutException)
        {
            int pending;
            lock (_pendingLock)
            {
                pending = _pending;
                _idleWaiters.Remove(waiter);
            }

            throw new TimeoutException($"{pending} webhook deliveries were still pending after {timeout.TotalSeconds:0.###} s. Check that every endpoint answers 2xx, or lower MaxDeliveryAttempts and WebhookRetryDelays.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        List<TaskCompletionSource> waiters;
        lock (_pendingLock)
        {
            _disposed = true;
            waiters = [.. _idleWaiters];
            _idleWaiters.Clear();
        }

        // Pending deliveries are dropped: a wait for them would sit out its whole timeout, then blame the endpoint.
        waiters.ForEach(waiter => waiter.TrySetException(new ObjectDisposedException(nameof(StripeEmulator), "The emulator was disposed while deliveries were pending; they were dropped.")));
        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync()
    {
        await foreach (var delivery in _queue.Reader.ReadAllAsync(_stopping.Token).ConfigureAwait(false))
        {
            await AttemptAsync(delivery).ConfigureAwait(false);
        }
    }

    private async Task AttemptAsync(Delivery delivery)
    {
        delivery.Attempts++;
        int? status = null;
        string? error = null;
        using (var request = new HttpRequestMessage(HttpMethod.Post, delivery.Endpoint.Url))
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
            attempt.CancelAfter(_timeout);
            try
            {
                request.Content = new ByteArrayContent(delivery.Payload);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, StripeWebhookSignature.CreateHeader(delivery.Payload, delivery.Endpoint.Secret, _signingClock.GetUtcNow()));
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token).ConfigureAwait(false);
                status = (int)response.StatusCode;
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested)
            {
                error = $"No answer within {_timeout.TotalSeconds:0.###} s.";
            }
#pragma warning disable CA1031 // A failed attempt, logged and retried: one endpoint's failure must not end every other's deliveries.
            catch (Exception exception) when (exception is not OperationCanceledException)
#pragma warning restore CA1031
            {
                error = exception.Message;
            }
        }

        var entry = new WebhookDelivery(delivery.Record.Id, delivery.Record.Type, delivery.Endpoint.Url, delivery.Attempts, status, error, _emulatorNow());
        lock (_log)
        {
            _log.Add(entry);
        }

        if (entry.Succeeded)
        {
            Log.Delivered(_logger, delivery.Record.Id, delivery.Record.Type, delivery.Endpoint.Url, delivery.Attempts);
            Finish(delivery);
        }
        else if (delivery.Attempts >= _maxAttempts)
        {
            Log.GaveUp(_logger, delivery.Record.Id, delivery.Record.Type, delivery.Endpoint.Url, delivery.Attempts, status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? error);
            Finish(delivery);
        }
        else
        {
            var delay = _retryDelays.Count == 0 ? TimeSpan.Zero : _retryDelays[Math.Min(delivery.Attempts - 1, _retryDelays.Count - 1)];
            Log.WillRetry(_logger, delivery.Record.Id, delivery.Record.Type, delivery.Endpoint.Url, delivery.Attempts, status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? error, delay.TotalMilliseconds);
            _ = RetryLaterAsync(delivery, delay);
        }
    }

    private async Task RetryLaterAsync(Delivery delivery, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            if (_queue.Writer.TryWrite(delivery))
            {
                return;
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping: the delivery is dropped.
        }

        Finish(delivery);
    }

    private void Finish(Delivery delivery)
    {
        delivery.Record.DeliveryFinished();
        List<TaskCompletionSource>? waiters = null;
        lock (_pendingLock)
        {
            _pending--;
            if (_pending == 0)
            {
                waiters = [.. _idleWaiters];
                _idleWaiters.Clear();
            }
        }

        waiters?.ForEach(waiter => waiter.TrySetResult());
    }

    private sealed class Delivery(EventRecord record, WebhookEndpoint endpoint, byte[] payload)
    {
        public EventRecord Record => record;

        public WebhookEndpoint Endpoint => endpoint;

        public byte[] Payload => payload;

        public int Attempts { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, EventName = "WebhookDelivered", Level = LogLevel.Debug,
            Message = "Delivered {EventId} ({EventType}) to {Endpoint} on attempt {Attempt}")]
        public static partial void Delivered(ILogger logger, string eventId, string eventType, Uri endpoint, int attempt);

        [LoggerMessage(EventId = 2, EventName = "WebhookWillRetry", Level = LogLevel.Information,
            Message = "Delivery of {EventId} ({EventType}) to {Endpoint} failed on attempt {Attempt} ({Reason}); retrying in {DelayMilliseconds:0} ms")]
        public static partial void WillRetry(ILogger logger, string eventId, string eventType, Uri endpoint, int attempt, string? reason, double delayMilliseconds);

        [LoggerMessage(EventId = 3, EventName = "WebhookGaveUp", Level = LogLevel.Warning,
            Message = "Gave up delivering {EventId} ({EventType}) to {Endpoint} after {Attempt} attempts (last: {Reason}). Make the endpoint answer 2xx")]
        public static partial void GaveUp(ILogger logger, string eventId, string eventType, Uri endpoint, int attempt, string? reason);
    }
}
