using System.Text.Json.Serialization;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// What creating a Checkout session needs of Stripe's answer: the session's id, the URL to send the buyer to, and
/// when it expires. Read by <see cref="CheckoutSessionLinkConverter"/>, which skips every other field.
/// </summary>
/// <param name="Id">The session's id (<c>cs_…</c>); empty when the answer has none.</param>
/// <param name="Url">The hosted Checkout page; <see langword="null"/> when the answer has none.</param>
/// <param name="ExpiresAt">When the session expires; <see langword="null"/> when the answer does not say.</param>
[JsonConverter(typeof(CheckoutSessionLinkConverter))]
internal sealed record StripeCheckoutSessionLink(string Id, string? Url, DateTimeOffset? ExpiresAt);
