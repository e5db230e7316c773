namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe billing portal session (<c>billing_portal.session</c>).</summary>
public sealed class StripeBillingPortalSession : StripeObject
{
    /// <summary>Gets the URL to send the customer to.</summary>
    public string? Url { get; set; }

    /// <summary>Gets the customer id.</summary>
    public string? Customer { get; set; }

    /// <summary>Gets where the portal sends the customer back to.</summary>
    public string? ReturnUrl { get; set; }

    /// <summary>Gets whether the session is in live mode.</summary>
    public bool Livemode { get; set; }
}
