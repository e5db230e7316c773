using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe customer (<c>customer</c>).</summary>
public sealed class StripeCustomer : StripeObject
{
    /// <summary>Gets the email.</summary>
    public string? Email { get; set; }

    /// <summary>Gets the name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets the phone number.</summary>
    public string? Phone { get; set; }

    /// <summary>Gets the description.</summary>
    public string? Description { get; set; }

    /// <summary>Gets the customer's metadata; the library keeps the app's user id here.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;

    /// <summary>Gets whether the customer was deleted.</summary>
    public bool Deleted { get; set; }

    /// <summary>Gets when the customer was created.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? Created { get; set; }

    /// <summary>Gets whether the customer is in live mode.</summary>
    public bool Livemode { get; set; }
}
