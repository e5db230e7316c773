namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// A transactional event store that can lock a key for the rest of its current transaction, across every instance of the
/// app that shares it: the library locks the customer (or, without one, the subscription) before it fetches the
/// subscription for an event's <see cref="Subscriptions.ISubscriptionHandler"/>s, so that two events of one customer's
/// subscriptions handled at once, by two instances or queue workers, run one after the other, and the later one reads the
/// subscription after the earlier one's writes committed.
/// </summary>
/// <remarks>
/// Optional: a store without it keeps working, its events of one customer serialized within each instance only (the
/// library does that in-process for every store). The Entity Framework Core store implements it: on PostgreSQL with a
/// transaction-level advisory lock; on SQLite its transaction already holds the database's one write lock from its start.
/// </remarks>
public interface ILockingWebhookEventStore : ITransactionalWebhookEventStore
{
    /// <summary>
    /// Waits until no other transaction holds a lock on <paramref name="key"/>, then takes it for the transaction that
    /// <see cref="ITransactionalWebhookEventStore.ExecuteInTransactionAsync"/> opened: the lock is released when that
    /// transaction commits or rolls back, never before. Called only inside that transaction, at most once per transaction.
    /// </summary>
    /// <param name="key">What to lock, such as <c>customer:cus_123</c> or <c>subscription:sub_123</c>.</param>
    /// <param name="cancellationToken">Ends the wait; the transaction then rolls back, holding nothing.</param>
    /// <returns>A task that completes when the lock is held.</returns>
    ValueTask LockAsync(string key, CancellationToken cancellationToken = default);
}
