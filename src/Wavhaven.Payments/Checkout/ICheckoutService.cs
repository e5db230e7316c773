namespace Wavhaven.Payments.Checkout;

/// <summary>Opens Stripe Checkout sessions for carts and plans, and settles them from the success page.</summary>
public interface ICheckoutService
{
    /// <summary>
    /// Creates a Checkout session. The request is checked first; a bad one is refused with
    /// <see cref="InvalidPaymentRequestException"/> before anything is sent to Stripe.
    /// </summary>
    /// <exception cref="InvalidPaymentRequestException">The request breaks a rule; nothing was sent.</exception>
    /// <exception cref="Stripe.StripeApiException">Stripe refused the session.</exception>
    /// <exception cref="Stripe.StripeConnectionException">Stripe could not be reached.</exception>
    Task<CheckoutResult> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads the session from Stripe and, if it is paid, runs its fulfillment now, unless the webhook (or an
    /// earlier sync) already did: call it from the success page so that the buyer never sees a stale
    /// "pending" while the webhook is on its way. The fulfillment handler runs once per purchase whichever
    /// comes first.
    /// </summary>
    /// <param name="sessionId">The session id from the success URL (<c>{CHECKOUT_SESSION_ID}</c>).</param>
    /// <param name="cancellationToken">The token.</param>
    /// <exception cref="ArgumentException"><paramref name="sessionId"/> is empty, blank, or "." or "..", which no session id can be; nothing was sent.</exception>
    /// <exception cref="Stripe.StripeApiException">Stripe does not know the session (404), or refused the call.</exception>
    Task<CheckoutSyncResult> SyncCheckoutAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Expires an open Checkout session, so that no one can pay it any more: call it before opening another checkout for
    /// the same purchase (a second tab, a "pay again" button), so that the buyer cannot pay both. A session that had
    /// expired already is a success too (<see cref="CheckoutExpireStatus.AlreadyExpired"/>); one the buyer completed first
    /// is answered <see cref="CheckoutExpireStatus.Completed"/>, not thrown: the purchase is paid (or its payment is on
    /// its way), so do not open another. A completed session whose delayed payment failed can never be paid either: it is
    /// answered <see cref="CheckoutExpireStatus.PaymentFailed"/>.
    /// </summary>
    /// <param name="sessionId">The id of the session (<c>cs_…</c>) that the app opened, e.g. kept with its order.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <remarks>
    /// The default implementation throws <see cref="NotSupportedException"/>: it is there so that implementations written
    /// before this method (test doubles) still compile and load. The library's own service implements it.
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="sessionId"/> is empty, blank, or "." or "..", which no session id can be; nothing was sent.</exception>
    /// <exception cref="Stripe.StripeApiException">Stripe does not know the session (404), or refused the call.</exception>
    /// <exception cref="Stripe.StripeConnectionException">Stripe could not be reached.</exception>
    /// <exception cref="NotSupportedException">The implementation predates this method.</exception>
    Task<CheckoutExpireResult> ExpireCheckoutAsync(string sessionId, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().FullName} does not implement ICheckoutService.ExpireCheckoutAsync.");
}
