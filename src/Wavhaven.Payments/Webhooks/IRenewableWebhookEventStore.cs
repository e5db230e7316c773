namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// An event store whose claims the library renews while their handlers run, so that a handler slower than the claim's
/// lease keeps its claim, rather than another delivery or worker taking the id and running the handlers a second time.
/// </summary>
/// <remarks>
/// <para>
/// Optional: a store that does not implement it keeps today's behaviour, a claim that holds for its lease whatever its
/// handler does. A separate interface rather than a method added to <see cref="IWebhookEventStore"/>, because renewal
/// comes with a threading contract that stores written before it were not written to honour (below), and because only
/// stores that opt in cost the library a timer per claim.
/// </para>
/// <para>
/// While a claim's handlers run, the library calls <see cref="RenewClaimAsync"/> every <see cref="ClaimRenewalPeriod"/>,
/// from a timer: concurrently with the handlers and with this instance's other methods (the claim's marks, the purchase's
/// claim). It must not use what they use: a store on the handlers' database connection renews on another one, outside
/// their transaction. A handler that finishes within the first period costs no renewal.
/// </para>
/// </remarks>
public interface IRenewableWebhookEventStore : IWebhookEventStore
{
    /// <summary>
    /// Gets how often a claim is renewed while its handlers run: a fraction of the lease (the Entity Framework Core store
    /// renews every third of <c>Stripe:WebhookClaimLease</c>), so that a renewal late by a period still comes before the
    /// lease runs out. <see cref="Timeout.InfiniteTimeSpan"/> when this store's claims need no renewal.
    /// </summary>
    TimeSpan ClaimRenewalPeriod { get; }

    /// <summary>
    /// Extends the lease of a claim this instance made, by the store's whole lease from now, if the claim is still this
    /// instance's: the update must change nothing for a claim another delivery or worker has taken since.
    /// </summary>
    /// <param name="id">The claimed event or purchase id.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>
    /// <see langword="false"/> when the claim was lost (another holder took it, or its record is gone): the library stops
    /// renewing it. <see langword="true"/> otherwise, including for a claim this instance has completed or released.
    /// </returns>
    ValueTask<bool> RenewClaimAsync(string id, CancellationToken cancellationToken = default);
}
