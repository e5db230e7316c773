using Microsoft.Extensions.DependencyInjection;

namespace Wavhaven.Payments.Webhooks;

/// <summary>The admin facade over a queue-capable store; replays wake the local worker.</summary>
internal sealed class WebhookEventAdmin(IServiceProvider services, WebhookQueueSignal signal) : IWebhookEventAdmin
{
    public async Task<WebhookEventInfo?> GetAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        return await Queue().FindAsync(eventId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit = 100, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limit, 1000);
        return await Queue().ListAsync(state, limit, cancellationToken).ConfigureAwait(false);
    }

    public async Task<bool> ReplayAsync(string eventId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        var replayed = await Queue().ReplayAsync(eventId, cancellationToken).ConfigureAwait(false);
        if (replayed)
        {
            signal.Pulse();
        }

        return replayed;
    }

    private IWebhookEventQueue Queue()
    {
        var store = services.GetRequiredService<IWebhookEventStore>();
        return store as IWebhookEventQueue ?? throw new InvalidOperationException(
            $"IWebhookEventAdmin needs a durable event store, but the registered one ({store.GetType().Name}) keeps no event log. " +
            "Register one, e.g. .UseEntityFrameworkStores<TContext>() from Wavhaven.Payments.EntityFrameworkCore.");
    }
}
