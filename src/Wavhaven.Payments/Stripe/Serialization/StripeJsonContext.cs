using System.Text.Json.Serialization;

namespace Wavhaven.Payments.Stripe.Serialization;

/// <summary>Source-generated JSON metadata for every Stripe object the library reads.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(StripeCheckoutSession))]
[JsonSerializable(typeof(StripeCheckoutSessionLink))]
[JsonSerializable(typeof(StripeList<StripeLineItem>))]
[JsonSerializable(typeof(StripeCustomer))]
[JsonSerializable(typeof(StripeSearchResult<StripeCustomer>))]
[JsonSerializable(typeof(StripeList<StripeCustomer>))]
[JsonSerializable(typeof(StripeSubscription))]
[JsonSerializable(typeof(StripeList<StripeSubscription>))]
[JsonSerializable(typeof(StripeInvoice))]
[JsonSerializable(typeof(StripePrice))]
[JsonSerializable(typeof(StripeCharge))]
[JsonSerializable(typeof(StripePaymentIntent))]
[JsonSerializable(typeof(StripeBillingPortalSession))]
[JsonSerializable(typeof(StripeErrorResponse))]
[JsonSerializable(typeof(StripeList<StripeWebhookEndpoint>))]
internal sealed partial class StripeJsonContext : JsonSerializerContext
{
}
