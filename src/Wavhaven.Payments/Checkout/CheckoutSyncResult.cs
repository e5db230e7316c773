using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Checkout;

/// <summary>Where a purchase stands, as the success page should show it.</summary>
public enum CheckoutSyncStatus
{
    /// <summary>Paid and fulfilled: now, or earlier by the webhook or another sync.</summary>
    Fulfilled,

    /// <summary>Paid, and being fulfilled elsewhere right now: show "almost done" and check again shortly.</summary>
    Fulfilling,

    /// <summary>The buyer completed Checkout but the payment has not cleared yet (a delayed method such as a bank debit).</summary>
    PaymentPending,

    /// <summary>The buyer has not completed Checkout (they may still be on it, or left it).</summary>
    Open,

    /// <summary>The session expired unpaid.</summary>
    Expired,

    /// <summary>Paid, but no fulfillment handler serves its type (see the logs), or it was not created by this library.</summary>
    NotFulfillable,

    /// <summary>
    /// The buyer completed Checkout, but its delayed payment failed (<c>checkout.session.async_payment_failed</c>): the
    /// session stays unpaid for good, and nothing is fulfilled. Offer the buyer a new checkout.
    /// </summary>
    PaymentFailed,
}

/// <summary>The result of <see cref="ICheckoutService.SyncCheckoutAsync"/>.</summary>
/// <param name="Status">Where the purchase stands.</param>
/// <param name="Session">The session as Stripe has it now.</param>
public sealed record CheckoutSyncResult(CheckoutSyncStatus Status, StripeCheckoutSession Session)
{
    /// <summary>Gets whether the purchase has been fulfilled.</summary>
    public bool IsFulfilled => Status == CheckoutSyncStatus.Fulfilled;
}
