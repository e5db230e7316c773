namespace Wavhaven.Payments.Stripe;

/// <summary>The Stripe API version this library is written against.</summary>
public static class StripeApiVersion
{
    /// <summary>
    /// The pinned API version, sent as <c>Stripe-Version</c> on every request. Create webhook endpoints
    /// with this <c>api_version</c> so that event payloads have the shapes the library reads.
    /// </summary>
    public const string Current = "2026-10-28.endive";
}
