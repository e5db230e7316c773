using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Deletes processed events older than <see cref="StripePaymentsOptions.WebhookEventRetention"/> from a durable
/// store, once an hour, in batches. It runs only when the store keeps an event log (<see cref="IWebhookEventQueue"/>).
/// Several instances may run it at once: deleting is idempotent.
/// </summary>
internal sealed partial class WebhookEventPruner(
    IServiceScopeFactory scopes,
    IOptions<StripePaymentsOptions> options,
    TimeProvider timeProvider,
    ILogger<WebhookEventPruner> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    internal const int BatchSize = 1000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.WebhookEventRetention == TimeSpan.Zero || !await KeepsAnEventLogAsync().ConfigureAwait(false))
        {
            return;
        }

        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await PruneOnceAsync(stoppingToken).ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.Failed(logger, exception);
                }

                await Task.Delay(Interval, timeProvider, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Deletes every processed event past the retention, batch by batch; returns how many.</summary>
    internal async Task<int> PruneOnceAsync(CancellationToken cancellationToken)
    {
        var cutoff = timeProvider.GetUtcNow() - options.Value.WebhookEventRetention;
        var total = 0;
        while (true)
        {
            var scope = scopes.CreateAsyncScope();
            await using (scope.ConfigureAwait(false))
            {
                var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
                var deleted = await queue.PruneProcessedEventsAsync(cutoff, BatchSize, cancellationToken).ConfigureAwait(false);
                total += deleted;
                if (deleted < BatchSize)
                {
                    break;
                }
            }
        }

        if (total > 0)
        {
            Log.Pruned(logger, total, options.Value.WebhookEventRetention);
        }

        return total;
    }

    private async Task<bool> KeepsAnEventLogAsync()
    {
        var scope = scopes.CreateAsyncScope();
        await using (scope.ConfigureAwait(false))
        {
            return scope.ServiceProvider.GetRequiredService<IWebhookEventStore>() is IWebhookEventQueue;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 640, EventName = "WebhookEventsPruned", Level = LogLevel.Information, Message = "Deleted {Count} processed webhook event(s) older than {Retention} (Stripe:WebhookEventRetention)")]
        public static partial void Pruned(ILogger logger, int count, TimeSpan retention);

        [LoggerMessage(EventId = 641, EventName = "WebhookEventPruneFailed", Level = LogLevel.Warning, Message = "Processed webhook events could not be pruned; trying again in an hour")]
        public static partial void Failed(ILogger logger, Exception exception);
    }
}
