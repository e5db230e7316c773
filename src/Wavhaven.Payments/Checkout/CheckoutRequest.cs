namespace Wavhaven.Payments.Checkout;

/// <summary>What to sell, to whom, and what the app does once it is paid.</summary>
public sealed class CheckoutRequest
{
    /// <summary>Gets the buyer: <see cref="CheckoutBuyer.Guest"/> or <see cref="CheckoutBuyer.Registered"/>.</summary>
    public required CheckoutBuyer Buyer { get; init; }

    /// <summary>Gets the cart. Any recurring catalog price makes a subscription checkout; otherwise it is a payment.</summary>
    public required IReadOnlyList<CheckoutLine> Lines { get; init; }

    /// <summary>
    /// Gets the fulfillment type: the <c>IFulfillmentHandler.Type</c> of the handler that
    /// runs once the checkout is paid (e.g. <c>license</c>).
    /// </summary>
    public required string FulfillmentType { get; init; }

    /// <summary>Gets the app's own metadata for the session (e.g. the order id). Keys starting with <c>wavhaven_</c> are reserved.</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Gets the app's tenant id, for multi-tenant apps: <see langword="null"/> or a non-blank value (a blank one is refused).</summary>
    public string? TenantId { get; init; }

    /// <summary>
    /// Gets the idempotency key of the session's creation: pass one per checkout attempt (e.g. <c>order-{reference}-checkout-{attempt}</c>)
    /// so that a retried request cannot open two sessions: 1 to 255 visible ASCII characters, since it is sent as an HTTP
    /// header. One is generated when absent. A new checkout of the same purchase (after
    /// <see cref="ICheckoutService.ExpireCheckoutAsync"/>) needs a new key: for 24 hours Stripe answers a key it has seen
    /// with the session it first created, expired or not.
    /// </summary>
    public string? IdempotencyKey { get; init; }

    /// <summary>Gets the success URL; <see cref="StripePaymentsOptions.SuccessUrl"/> when absent.</summary>
    public string? SuccessUrl { get; init; }

    /// <summary>Gets the cancel URL; <see cref="StripePaymentsOptions.CancelUrl"/> when absent.</summary>
    public string? CancelUrl { get; init; }

    /// <summary>Gets whether buyers may enter promotion codes.</summary>
    public bool AllowPromotionCodes { get; init; }

    /// <summary>Gets whether Stripe Tax computes taxes.</summary>
    public bool AutomaticTax { get; init; }

    /// <summary>Gets the number of trial days of a subscription checkout (1–730).</summary>
    public int? TrialDays { get; init; }
}

/// <summary>An open Checkout session: send the buyer to <see cref="Url"/>.</summary>
/// <param name="SessionId">The session id (<c>cs_…</c>).</param>
/// <param name="Url">The hosted Checkout page.</param>
/// <param name="ExpiresAt">When the session expires; <see langword="null"/> if Stripe did not say.</param>
public sealed record CheckoutResult(string SessionId, Uri Url, DateTimeOffset? ExpiresAt);
