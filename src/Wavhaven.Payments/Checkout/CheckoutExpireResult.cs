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
}

/// <summary>The result of <see cref="ICheckoutService.ExpireCheckoutAsync"/>.</summary>
/// <param name="Status">What became of the session.</param>
/// <param name="Session">The session as Stripe has it now.</param>
public sealed record CheckoutExpireResult(CheckoutExpireStatus Status, StripeCheckoutSession Session)
{
    /// <summary>Gets whether the session is expired (now or before): no one can pay it any more.</summary>
    public bool IsExpired => Status is CheckoutExpireStatus.Expired or CheckoutExpireStatus.AlreadyExpired;
}
