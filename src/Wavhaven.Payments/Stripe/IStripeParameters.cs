namespace Wavhaven.Payments.Stripe;

/// <summary>
/// The parameters of one Stripe API request, able to write themselves in Stripe's form encoding. A
/// <see cref="StripeForm"/> is the general case; a hot path such as creating a Checkout session writes its
/// parameters straight from its own request, without building a tree of forms first.
/// </summary>
internal interface IStripeParameters
{
    /// <summary>Writes every parameter, in order, to <paramref name="writer"/>.</summary>
    void WriteTo(StripeFormWriter writer);
}
