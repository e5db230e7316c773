namespace Wavhaven.Payments.Subscriptions;

/// <summary>
/// The app's code for subscription changes: created, updated (plan switch, cancellation scheduled or
/// undone, status change), deleted, trial ending, renewal paid, renewal failed. Runs once per event.
/// </summary>
public interface ISubscriptionHandler
{
    /// <summary>Applies a change. <see cref="SubscriptionChange"/> carries the subscription's latest state, so applying it is safe in any order.</summary>
    Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken);
}
