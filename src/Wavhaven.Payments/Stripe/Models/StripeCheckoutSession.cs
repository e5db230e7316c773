using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>A Stripe Checkout session (<c>checkout.session</c>).</summary>
public sealed class StripeCheckoutSession : StripeObject
{
    /// <summary>Gets the mode: <c>payment</c>, <c>subscription</c> or <c>setup</c>.</summary>
    public string? Mode { get; set; }

    /// <summary>Gets the status: <c>open</c>, <c>complete</c> or <c>expired</c>.</summary>
    public string? Status { get; set; }

    /// <summary>Gets the payment status: <c>paid</c>, <c>unpaid</c> or <c>no_payment_required</c>.</summary>
    public string? PaymentStatus { get; set; }

    /// <summary>Gets the app's reference for the buyer: the app's user id for sessions this library creates.</summary>
    public string? ClientReferenceId { get; set; }

    /// <summary>Gets the Stripe customer id; may be <see langword="null"/> for guest payments.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Customer { get; set; }

    /// <summary>Gets the email the session was created with (guest buyers).</summary>
    public string? CustomerEmail { get; set; }

    /// <summary>Gets what the buyer entered on the Checkout page.</summary>
    public StripeCustomerDetails? CustomerDetails { get; set; }

    /// <summary>Gets the session's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;

    /// <summary>Gets the total before discounts and taxes, in minor units.</summary>
    public long? AmountSubtotal { get; set; }

    /// <summary>Gets the total, in minor units.</summary>
    public long? AmountTotal { get; set; }

    /// <summary>Gets the three-letter ISO currency code, lowercase.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the payment intent id (payment mode).</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? PaymentIntent { get; set; }

    /// <summary>Gets the subscription id (subscription mode, once complete).</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Subscription { get; set; }

    /// <summary>Gets the invoice id, if an invoice was created.</summary>
    [JsonConverter(typeof(ExpandableIdConverter))]
    public string? Invoice { get; set; }

    /// <summary>Gets the URL of the hosted Checkout page, while the session is open.</summary>
    public string? Url { get; set; }

    /// <summary>Gets the success URL.</summary>
    public string? SuccessUrl { get; set; }

    /// <summary>Gets the cancel URL.</summary>
    public string? CancelUrl { get; set; }

    /// <summary>Gets when the session expires.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Gets when the session was created.</summary>
    [JsonConverter(typeof(NullableUnixTimestampConverter))]
    public DateTimeOffset? Created { get; set; }

    /// <summary>Gets whether the session is in live mode.</summary>
    public bool Livemode { get; set; }

    /// <summary>Gets the line items, present only when the request expanded <c>line_items</c>.</summary>
    public StripeList<StripeLineItem>? LineItems { get; set; }
}

/// <summary>The buyer's details as entered on the Checkout page.</summary>
public sealed class StripeCustomerDetails
{
    /// <summary>Gets the buyer's email.</summary>
    public string? Email { get; set; }

    /// <summary>Gets the buyer's name.</summary>
    public string? Name { get; set; }

    /// <summary>Gets the buyer's phone number.</summary>
    public string? Phone { get; set; }
}

/// <summary>A line of a Checkout session (<c>item</c>).</summary>
public sealed class StripeLineItem : StripeObject
{
    /// <summary>Gets the description shown to the buyer (the product name).</summary>
    public string? Description { get; set; }

    /// <summary>Gets the quantity.</summary>
    public long? Quantity { get; set; }

    /// <summary>Gets the amount before discounts and taxes, in minor units.</summary>
    public long AmountSubtotal { get; set; }

    /// <summary>Gets the amount, in minor units.</summary>
    public long AmountTotal { get; set; }

    /// <summary>Gets the discount, in minor units.</summary>
    public long AmountDiscount { get; set; }

    /// <summary>Gets the tax, in minor units.</summary>
    public long AmountTax { get; set; }

    /// <summary>Gets the currency.</summary>
    public string? Currency { get; set; }

    /// <summary>Gets the price.</summary>
    public StripePrice? Price { get; set; }

    /// <summary>Gets the line's metadata.</summary>
    [JsonConverter(typeof(MetadataConverter))]
    public IReadOnlyDictionary<string, string> Metadata { get; set; } = StripeMetadata.Empty;
}
