using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Checkout;

/// <summary>What became of a session that <see cref="ICheckoutService.ExpireCheckoutAsync"/> was asked to expire.</summary>
public enum CheckoutExpireStatus
{
    /// <summary>The session was open and is expired now: it can no longer be paid. <c>checkout.session.expired</c> follows.</summary>
    Expired,

    /// <summary>The session had expired already (by an earlier call, or at its <c>expires_at</c>): it cannot be paid.</summary>
    AlreadyExpired,

    /// <summary>
    /// The buyer completed Checkout before it could be expired: it is paid, or its delayed payment is on its way
    /// (<see cref="StripeCheckoutSession.PaymentStatus"/> says which). Do not open another checkout for the same purchase.
    /// </summary>
    Completed,

    /// <summary>
    /// The buyer completed Checkout, but its delayed payment failed (<c>checkout.session.async_payment_failed</c>): the
    /// session stays unpaid for good, as an expired one does, and another checkout may be opened.
    /// </summary>
    PaymentFailed,
}

/// <summary>The result of <see cref="ICheckoutService.ExpireCheckoutAsync"/>.</summary>
/// <param name="Status">What became of the session.</param>
/// <param name="Session">The session as Stripe has it now.</param>
public sealed record CheckoutExpireResult(CheckoutExpireStatus Status, StripeCheckoutSession Session)
{
    /// <summary>
    /// Gets whether the buyer completed the session first, so that it is paid or its payment is on its way
    /// (<see cref="CheckoutExpireStatus.Completed"/>): do not open another checkout. Any other status means that the
    /// session will never be paid.
    /// </summary>
    public bool IsCompleted => Status == CheckoutExpireStatus.Completed;
}
