namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// An event store on a database that the app's handlers write to as well: the library runs an event's
/// handlers and its "processed" mark inside one of the store's transactions, so that the handlers' writes
/// and the mark commit together or not at all.
/// </summary>
/// <remarks>
/// <para>
/// The event's claim itself is committed before the transaction starts, so other deliveries see the event in
/// progress. Inside the transaction, <see cref="IWebhookEventStore.MarkProcessedAsync"/> must fail when the
/// claim was lost (its lease ran out and another delivery took it), so that this attempt's work rolls back.
/// </para>
/// <para>
/// The purchase of a paid Checkout session is claimed inside the transaction (<see cref="IWebhookEventStore.TryClaimAsync"/>
/// of <c>checkout.session:…</c>, while the event's fulfillment handler runs), and marked processed or failed there. Such a
/// claim must belong to the transaction: its rollback undoes it (the failure mark rolls back with it, and the purchase must
/// be free for the next attempt), and until the transaction ends every other claim of the id must wait for it or be
/// answered <see cref="WebhookClaimStatus.InProgress"/>, whatever its lease: the library does not renew it. A relational
/// database's row lock on the claimed row does both; a store without one (a key-value store) must hold the claim for the
/// transaction's length, not for its lease.
/// </para>
/// </remarks>
public interface ITransactionalWebhookEventStore : IWebhookEventStore
{
    /// <summary>
    /// Runs <paramref name="operation"/> inside a transaction and commits when it returns; rolls back when it
    /// throws, and rethrows. When a transaction is already open, runs inside it.
    /// </summary>
    /// <typeparam name="TResult">The operation's result.</typeparam>
    /// <param name="operation">The handlers and the "processed" mark.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>The operation's result.</returns>
    Task<TResult> ExecuteInTransactionAsync<TResult>(Func<CancellationToken, Task<TResult>> operation, CancellationToken cancellationToken = default);
}
