using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>The backlog of a queue whose store has no backlog query of its own: measured from its lists.</summary>
public class WebhookQueueBacklogTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task WithoutItsOwnQuery_AStoreIsMeasuredFromItsNewAndFailedEvents_ThatHaveANextAttempt()
    {
        IWebhookEventQueue sut = new ListOnlyQueue(
            Event("evt_new", WebhookEventState.Received, dueMinutesAgo: 1),
            Event("evt_late", WebhookEventState.Received, dueMinutesAgo: 9),
            Event("evt_retrying", WebhookEventState.Failed, dueMinutesAgo: 7),
            Event("evt_inline_failed", WebhookEventState.Failed, dueMinutesAgo: null),
            Event("evt_dead", WebhookEventState.Dead, dueMinutesAgo: 30));

        var backlog = await sut.GetBacklogAsync(Now.AddMinutes(-5));

        backlog.Should().Be(new WebhookQueueBacklog(Queued: 3, Overdue: 2, OldestDueAt: Now.AddMinutes(-9)));
    }

    [Fact]
    public async Task WithoutItsOwnQuery_AnEmptyQueue_HasNoBacklog()
    {
        IWebhookEventQueue sut = new ListOnlyQueue();

        (await sut.GetBacklogAsync(Now)).Should().Be(new WebhookQueueBacklog(0, 0, null));
    }

    private static WebhookEventInfo Event(string id, WebhookEventState state, int? dueMinutesAgo) =>
        new(id, "charge.refunded", state, 1, null, Now.AddHours(-1), Now.AddHours(-1), Now, null, dueMinutesAgo is { } ago ? Now.AddMinutes(-ago) : null);

    /// <summary>A queue that can only list: every other member fails the test if called.</summary>
    private sealed class ListOnlyQueue(params WebhookEventInfo[] events) : IWebhookEventQueue
    {
        public ValueTask<IReadOnlyList<WebhookEventInfo>> ListAsync(WebhookEventState state, int limit, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<IReadOnlyList<WebhookEventInfo>>([.. events.Where(e => e.State == state).Take(limit)]);

        public ValueTask<bool> EnqueueAsync(StripeEvent stripeEvent, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<QueuedWebhookEvent?> ClaimNextAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask ScheduleRetryAsync(string id, string error, DateTimeOffset nextAttemptAt, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask MarkDeadAsync(string id, string error, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<bool> ReplayAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<WebhookEventInfo?> FindAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<int> PruneProcessedEventsAsync(DateTimeOffset processedBefore, int limit, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    }
}
