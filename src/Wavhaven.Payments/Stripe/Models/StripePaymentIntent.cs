namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe payment intent (<c>payment_intent</c>): only what the success page's sync reads of it.</summary>
internal sealed class StripePaymentIntent : StripeObject
{
    /// <summary>
    /// Gets the status: <c>processing</c> while a delayed payment is on its way, <c>succeeded</c>, or after a failure
    /// <c>requires_payment_method</c> (or <c>canceled</c>).
    /// </summary>
    public string? Status { get; set; }
}
