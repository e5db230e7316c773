using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe subscription (<c>subscription</c>).</summary>
public sealed class StripeSubscription : StripeObject
{
    /// <summary>Gets the customer id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Customer { get; set; }

    /// <summary>
    /// Gets the status: <c>incomplete</c>, <c>incomplete_expired</c>, <c>trialing</c>, <c>active</c>,
    /// <c>past_due</c>, <c>canceled</c>, <c>unpaid</c> or <c>paused</c>.
    /// </summary>
    public string? Status { get; set; }

    /// <summary>Gets whether the subscription ends at the end of the current period.</summary>
    public bool CancelAtPeriodEnd { get; set; }

    /// <summary>Gets when the subscription is set to end.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? CancelAt { get; set; }

    /// <summary>Gets when the subscription was canceled.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? CanceledAt { get; set; }

    /// <summary>Gets when the subscription ended.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Gets when the trial started.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? TrialStart { get; set; }

    /// <summary>Gets when the trial ends.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? TrialEnd { get; set; }

    /// <summary>Gets when the subscription was created.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? Created { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the id of the latest invoice.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? LatestInvoice { get; set; }

    /// <summary>Gets the subscription's metadata; subscriptions created through Checkout carry the routing metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;

    /// <summary>Gets the subscription's items (price, quantity and, since 2025-03-31, the billing period).</summary>
    public StripeList<StripeSubscriptionItem>? Items { get; set; }

    /// <summary>Gets whether the subscription is in live mode.</summary>
    public bool Livemode { get; set; }
}

/// <summary>An item of a subscription (<c>subscription_item</c>).</summary>
public sealed class StripeSubscriptionItem : StripeObject
{
    /// <summary>Gets the price.</summary>
    public StripePrice? Price { get; set; }

    /// <summary>Gets the quantity.</summary>
    public long? Quantity { get; set; }

    /// <summary>Gets when the current billing period started.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? CurrentPeriodStart { get; set; }

    /// <summary>Gets when the current billing period ends.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? CurrentPeriodEnd { get; set; }

    /// <summary>Gets the item's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;
}
