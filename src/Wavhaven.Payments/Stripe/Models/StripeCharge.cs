using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe charge (<c>charge</c>), as found in <c>charge.*</c> events.</summary>
public sealed class StripeCharge : StripeObject
{
    /// <summary>Gets the amount, in minor units.</summary>
    public long Amount { get; set; }

    /// <summary>Gets the amount refunded so far, in minor units.</summary>
    public long AmountRefunded { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the customer id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Customer { get; set; }

    /// <summary>Gets the payment intent id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? PaymentIntent { get; set; }

    /// <summary>Gets whether the charge succeeded.</summary>
    public bool Paid { get; set; }

    /// <summary>Gets whether the charge was fully refunded.</summary>
    public bool Refunded { get; set; }

    /// <summary>Gets the status: <c>succeeded</c>, <c>pending</c> or <c>failed</c>.</summary>
    public string? Status { get; set; }

    /// <summary>Gets the charge's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;

    /// <summary>Gets whether the charge is in live mode.</summary>
    public bool Livemode { get; set; }
}
