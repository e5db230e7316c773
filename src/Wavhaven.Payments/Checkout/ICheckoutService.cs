namespace Wavhaven.Payments.Checkout;

/// <summary>Opens Stripe Checkout sessions for carts and plans.</summary>
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
}
