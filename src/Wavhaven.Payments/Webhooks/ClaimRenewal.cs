using Microsoft.Extensions.Logging;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Renews one claim of an <see cref="IRenewableWebhookEventStore"/> while its handlers run: a timer that calls the store
/// every <see cref="IRenewableWebhookEventStore.ClaimRenewalPeriod"/>, stopped when the handlers are done. A handler that
/// finishes within the first period costs this object and the timer, and no call to the store.
/// </summary>
/// <remarks>
/// A renewal that finds the claim lost stops the timer, logs a warning and, when given one, cancels the source of the
/// handlers' token: another holder runs them now. The source is the caller's (it may cancel for other reasons too: the
/// queue worker's cancels on the host's stop and at Stripe:WebhookQueue:HandlerTimeout), and so is its disposal. A renewal that fails (the database is unreachable) is logged and tried again at the next
/// period; if none succeeds, the lease runs out as it did before renewals: another delivery or worker may then take the
/// claim, and if one does, the first renewal to reach the store, or the final mark, finds the claim lost.
/// </remarks>
internal sealed partial class ClaimRenewal : IDisposable
{
    private readonly IRenewableWebhookEventStore _store;
    private readonly string _id;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource? _cancelOnLoss;
    private ITimer? _timer;
    private int _renewing;
    private volatile bool _stopped;
    private volatile bool _lost;

    private ClaimRenewal(IRenewableWebhookEventStore store, string id, TimeSpan period, TimeProvider timeProvider, ILogger logger, CancellationTokenSource? cancelOnLoss)
    {
        _store = store;
        _id = id;
        _logger = logger;
        _cancelOnLoss = cancelOnLoss;
        _timer = timeProvider.CreateTimer(static state => ((ClaimRenewal)state!).Tick(), this, period, period);
    }

    /// <summary>Gets whether a renewal found the claim lost (not set by one that ended after <see cref="Dispose"/>).</summary>
    public bool Lost => _lost;

    /// <summary>
    /// Starts renewing the claim of <paramref name="id"/>, or returns <see langword="null"/> when the store does not renew
    /// (then nothing is made: no timer). With <paramref name="cancelOnLoss"/>, a lost claim also cancels it: the source of
    /// the handlers' token, which the caller disposes after <see cref="Dispose"/>.
    /// </summary>
    public static ClaimRenewal? Start(IWebhookEventStore store, string id, TimeProvider timeProvider, ILogger logger, CancellationTokenSource? cancelOnLoss = null) =>
        store is IRenewableWebhookEventStore renewable && renewable.ClaimRenewalPeriod is var period && IsPeriod(period)
            ? new ClaimRenewal(renewable, id, period, timeProvider, logger, cancelOnLoss)
            : null;

    /// <summary>Stops renewing: the handlers are done, and whatever a renewal still in flight answers is ignored.</summary>
    public void Dispose()
    {
        _stopped = true;
        Interlocked.Exchange(ref _timer, null)?.Dispose();
    }

    private static bool IsPeriod(TimeSpan period) => period > TimeSpan.Zero && period != Timeout.InfiniteTimeSpan;

    private void Tick()
    {
        // One renewal at a time: a store slower than the period skips a tick rather than piling renewals up.
        if (_stopped || _lost || Interlocked.Exchange(ref _renewing, 1) == 1)
        {
            return;
        }

        _ = RenewAsync();
    }

    private async Task RenewAsync()
    {
        try
        {
            var held = await _store.RenewClaimAsync(_id, CancellationToken.None).ConfigureAwait(false);
            if (_stopped)
            {
                return;
            }

            if (held)
            {
                Log.Renewed(_logger, _id);
                return;
            }

            _lost = true;
            Interlocked.Exchange(ref _timer, null)?.Dispose();
            Log.Lost(_logger, _id, _cancelOnLoss is not null);
            try
            {
                _cancelOnLoss?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The handlers ended meanwhile and their token went with them.
            }
        }
#pragma warning disable CA1031 // A renewal runs on a timer: logged, and tried again at the next period.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (!_stopped)
            {
                Log.RenewalFailed(_logger, exception, _id);
            }
        }
        finally
        {
            Volatile.Write(ref _renewing, 0);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 630, EventName = "WebhookClaimRenewed", Level = LogLevel.Debug, Message = "The claim on {Id} was renewed: its handlers are still running")]
        public static partial void Renewed(ILogger logger, string id);

        [LoggerMessage(EventId = 631, EventName = "WebhookClaimLost", Level = LogLevel.Warning, Message = "The claim on {Id} was lost while its handlers ran (another delivery or worker took it, or its record is gone): renewal stops (handlers cancelled: {Cancelled}), and this attempt's outcome is not recorded; its transactional writes roll back")]
        public static partial void Lost(ILogger logger, string id, bool cancelled);

        [LoggerMessage(EventId = 632, EventName = "WebhookClaimRenewalFailed", Level = LogLevel.Warning, Message = "The claim on {Id} could not be renewed; trying again at the next period (if none succeeds, its lease runs out and another worker may take it)")]
        public static partial void RenewalFailed(ILogger logger, Exception exception, string id);
    }
}
