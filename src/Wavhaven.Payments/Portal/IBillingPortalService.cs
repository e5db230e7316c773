namespace Wavhaven.Payments.Portal;

/// <summary>Opens Stripe's billing portal, where customers manage their subscriptions, invoices and cards.</summary>
public interface IBillingPortalService
{
    /// <summary>
    /// Creates a portal session for the user's Stripe customer. With <see cref="BillingPortalRequest.SwitchToPriceId"/>
    /// the portal opens straight on the confirmation of a switch of the user's current subscription to that price.
    /// </summary>
    /// <exception cref="InvalidPaymentRequestException">
    /// The request breaks a rule; nothing was created. Rules about the request itself are checked before any call;
    /// "already on that price" is found once the user's subscription has been read.
    /// </exception>
    /// <exception cref="InvalidOperationException">The user has no Stripe customer yet, no subscription to switch, or one the portal cannot switch (several items).</exception>
    /// <exception cref="Stripe.StripeApiException">Stripe refused the session.</exception>
    Task<BillingPortalResult> CreatePortalSessionAsync(BillingPortalRequest request, CancellationToken cancellationToken = default);
}

/// <summary>Whose portal to open, and where to come back to.</summary>
public sealed class BillingPortalRequest
{
    /// <summary>Gets the app's user id.</summary>
    public required string UserId { get; init; }

    /// <summary>Gets the absolute URL the portal's "return" link leads to.</summary>
    public required string ReturnUrl { get; init; }

    /// <summary>Gets the catalog price (<c>price_…</c>) to switch the user's current subscription to, if any.</summary>
    public string? SwitchToPriceId { get; init; }

    /// <summary>Gets the app's tenant id, for multi-tenant apps: <see langword="null"/> or a non-blank value (a blank one is refused).</summary>
    public string? TenantId { get; init; }
}

/// <summary>An open portal session: send the customer to <see cref="Url"/>.</summary>
/// <param name="SessionId">The portal session id (<c>bps_…</c>).</param>
/// <param name="Url">The portal page.</param>
public sealed record BillingPortalResult(string SessionId, Uri Url);
