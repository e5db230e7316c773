namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Wakes this instance's queue worker when an event was enqueued or replayed here, so that it does not wait
/// for its next poll. Other instances find the event when they poll.
/// </summary>
internal sealed class WebhookQueueSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets a task that completes at the next <see cref="Pulse"/>. Take it before looking for work, so that no pulse is missed.</summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
