using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Checkout;

/// <summary>
/// The parameters of <c>POST /v1/checkout/sessions</c> for a checked request, written straight from the request into
/// the encoder, without building a tree of <see cref="StripeForm"/>s, lists and dictionaries first on every checkout.
/// The order of the pairs is part of the contract: the checkout tests pin whole bodies.
/// </summary>
/// <param name="request">The request, already validated.</param>
/// <param name="plan">What validation resolved: the mode, the lines with their prices, the URLs.</param>
/// <param name="customerId">The Stripe customer of a registered buyer; <see langword="null"/> for a guest.</param>
internal sealed class CheckoutSessionParameters(CheckoutRequest request, CheckoutService.CheckoutPlan plan, string? customerId) : IStripeParameters
{
    /// <inheritdoc />
    public void WriteTo(StripeFormWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Add("mode", plan.Mode);
        using (writer.Nest("line_items"))
        {
            for (var index = 0; index < plan.Lines.Count; index++)
            {
                using (writer.Nest(index))
                {
                    WriteLine(writer, plan.Lines[index]);
                }
            }
        }

        writer.Add("client_reference_id", request.Buyer.UserId);
        if (customerId is not null)
        {
            writer.Add("customer", customerId);
        }
        else
        {
            writer.Add("customer_email", ((GuestBuyer)request.Buyer).Email);
        }

        WriteMetadata(writer);
        if (plan.Mode == "subscription")
        {
            using (writer.Nest("subscription_data"))
            {
                WriteMetadata(writer);
                if (request.TrialDays is { } trialDays)
                {
                    writer.Add("trial_period_days", trialDays);
                }
            }
        }
        else
        {
            using (writer.Nest("payment_intent_data"))
            {
                WriteMetadata(writer);
            }
        }

        writer.Add("success_url", plan.SuccessUrl);
        writer.Add("cancel_url", plan.CancelUrl);
        if (request.AllowPromotionCodes)
        {
            writer.Add("allow_promotion_codes", true);
        }

        if (request.AutomaticTax)
        {
            using (writer.Nest("automatic_tax"))
            {
                writer.Add("enabled", true);
            }

            if (customerId is not null)
            {
                // Stripe computes tax from an existing customer's address and refuses the session when the customer has
                // none, which is how the library creates them: the address the buyer enters in Checkout is saved instead.
                using (writer.Nest("customer_update"))
                {
                    writer.Add("address", "auto");
                }
            }
        }
    }

    private static void WriteLine(StripeFormWriter writer, CheckoutService.ResolvedLine line)
    {
        if (line.Price is { } price)
        {
            writer.Add("price", price.PriceId);
        }
        else
        {
            var item = (ItemLine)line.Line;
            using (writer.Nest("price_data"))
            {
                writer.Add("currency", line.Currency);
                writer.Add("unit_amount", item.UnitAmount);
                using (writer.Nest("product_data"))
                {
                    writer.Add("name", item.Name);
                    if (item.ProductMetadata is { Count: > 0 } productMetadata)
                    {
                        using var metadata = writer.Nest("metadata");
                        writer.AddEach(productMetadata);
                    }
                }
            }
        }

        writer.Add("quantity", line.Line.Quantity);
    }

    /// <summary>The caller's metadata, then the keys that route later events back to the app (validation refused the caller's use of those).</summary>
    private void WriteMetadata(StripeFormWriter writer)
    {
        using var metadata = writer.Nest("metadata");
        if (request.Metadata is not null)
        {
            writer.AddEach(request.Metadata);
        }

        writer.Add(MetadataKeys.FulfillmentType, request.FulfillmentType);
        writer.Add(MetadataKeys.UserId, request.Buyer.UserId);
        writer.Add(MetadataKeys.Buyer, request.Buyer.IsGuest ? "guest" : "registered");
        if (request.TenantId is not null)
        {
            writer.Add(MetadataKeys.TenantId, request.TenantId);
        }
    }
}
