using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe invoice (<c>invoice</c>).</summary>
public sealed class StripeInvoice : StripeObject
{
    /// <summary>Gets the customer id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Customer { get; set; }

    /// <summary>Gets the customer's email at the time of the invoice.</summary>
    public string? CustomerEmail { get; set; }

    /// <summary>Gets the status: <c>draft</c>, <c>open</c>, <c>paid</c>, <c>uncollectible</c> or <c>void</c>.</summary>
    public string? Status { get; set; }

    /// <summary>Gets why the invoice was created, e.g. <c>subscription_create</c> or <c>subscription_cycle</c>.</summary>
    public string? BillingReason { get; set; }

    /// <summary>Gets the amount due, in minor units.</summary>
    public long AmountDue { get; set; }

    /// <summary>Gets the amount paid, in minor units.</summary>
    public long AmountPaid { get; set; }

    /// <summary>Gets the amount remaining, in minor units.</summary>
    public long AmountRemaining { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the invoice number.</summary>
    public string? Number { get; set; }

    /// <summary>Gets the URL of the hosted invoice page.</summary>
    public string? HostedInvoiceUrl { get; set; }

    /// <summary>Gets when the invoice was created.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? Created { get; set; }

    /// <summary>Gets the start of the period the invoice covers.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? PeriodStart { get; set; }

    /// <summary>Gets the end of the period the invoice covers.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? PeriodEnd { get; set; }

    /// <summary>Gets what the invoice was created for; a subscription's invoice names it here.</summary>
    public StripeInvoiceParent? Parent { get; set; }

    /// <summary>Gets the invoice's lines.</summary>
    public StripeList<StripeInvoiceLineItem>? Lines { get; set; }

    /// <summary>Gets the invoice's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;

    /// <summary>Gets whether the invoice is in live mode.</summary>
    public bool Livemode { get; set; }

    /// <summary>
    /// Gets the id of the subscription the invoice bills, from <c>parent.subscription_details.subscription</c>, or in an
    /// event rendered at an API version before 2025-03-31 (a webhook endpoint not yet moved to the pinned one), from the
    /// invoice's own <c>subscription</c>.
    /// </summary>
    [JsonIgnore]
    public string? SubscriptionId => Parent?.SubscriptionDetails?.Subscription ?? TopLevelSubscription;

    /// <summary>Gets <c>subscription</c>, where API versions before 2025-03-31 name an invoice's subscription.</summary>
    [JsonInclude]
    [JsonPropertyName("subscription")]
    [JsonConverter(typeof(ExpandableIdConverter))]
    internal string? TopLevelSubscription { get; set; }
}

/// <summary>What an invoice was created for.</summary>
public sealed class StripeInvoiceParent
{
    /// <summary>Gets the parent type, e.g. <c>subscription_details</c>.</summary>
    public string? Type { get; set; }

    /// <summary>Gets the subscription details, for a subscription's invoice.</summary>
    public StripeInvoiceSubscriptionDetails? SubscriptionDetails { get; set; }
}

/// <summary>The subscription an invoice bills.</summary>
public sealed class StripeInvoiceSubscriptionDetails
{
    /// <summary>Gets the subscription id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Subscription { get; set; }

    /// <summary>Gets a snapshot of the subscription's metadata when the invoice was finalized.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;
}

/// <summary>A line of an invoice (<c>line_item</c>).</summary>
public sealed class StripeInvoiceLineItem : StripeObject
{
    /// <summary>Gets the amount, in minor units.</summary>
    public long Amount { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the description.</summary>
    public string? Description { get; set; }

    /// <summary>Gets the quantity.</summary>
    public long? Quantity { get; set; }

    /// <summary>Gets the period the line covers.</summary>
    public StripePeriod? Period { get; set; }

    /// <summary>Gets how the line was priced.</summary>
    public StripeInvoiceLinePricing? Pricing { get; set; }

    /// <summary>Gets the line's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;
}

/// <summary>A period of time.</summary>
public sealed class StripePeriod
{
    /// <summary>Gets the start.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? Start { get; set; }

    /// <summary>Gets the end.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? End { get; set; }
}

/// <summary>How an invoice line was priced.</summary>
public sealed class StripeInvoiceLinePricing
{
    /// <summary>Gets the pricing type, e.g. <c>price_details</c>.</summary>
    public string? Type { get; set; }

    /// <summary>Gets the price details.</summary>
    public StripeInvoiceLinePriceDetails? PriceDetails { get; set; }
}

/// <summary>The price behind an invoice line.</summary>
public sealed class StripeInvoiceLinePriceDetails
{
    /// <summary>Gets the price id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Price { get; set; }

    /// <summary>Gets the product id.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Product { get; set; }
}
