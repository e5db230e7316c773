namespace Wavhaven.Payments.Stripe;

/// <summary>A webhook endpoint registered at Stripe (<c>webhook_endpoint</c>), as the health check reads it.</summary>
internal sealed class StripeWebhookEndpoint : StripeObject
{
    public string? Url { get; set; }

    /// <summary>The API version events to this endpoint are rendered at; <see langword="null"/> means the account's default.</summary>
    public string? ApiVersion { get; set; }

    /// <summary><c>enabled</c> or <c>disabled</c>.</summary>
    public string? Status { get; set; }
}
