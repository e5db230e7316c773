using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe price (<c>price</c>).</summary>
public sealed class StripePrice : StripeObject
{
    /// <summary>Gets whether the price can be used for new purchases.</summary>
    public bool Active { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the unit amount, in minor units.</summary>
    public long? UnitAmount { get; set; }

    /// <summary>Gets the product id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Product { get; set; }

    /// <summary>Gets the price type: <c>one_time</c> or <c>recurring</c>.</summary>
    public string? Type { get; set; }

    /// <summary>Gets the billing interval of a recurring price.</summary>
    public StripeRecurring? Recurring { get; set; }

    /// <summary>Gets the lookup key.</summary>
    public string? LookupKey { get; set; }

    /// <summary>Gets the nickname.</summary>
    public string? Nickname { get; set; }

    /// <summary>Gets the price's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;
}

/// <summary>The billing interval of a recurring price.</summary>
public sealed class StripeRecurring
{
    /// <summary>Gets the interval: <c>day</c>, <c>week</c>, <c>month</c> or <c>year</c>.</summary>
    public string? Interval { get; set; }

    /// <summary>Gets the number of intervals between bills.</summary>
    public long IntervalCount { get; set; } = 1;
}
