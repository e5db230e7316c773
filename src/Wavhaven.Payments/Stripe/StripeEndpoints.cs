using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Stripe;

/// <summary>The Stripe endpoints the library calls, typed. <c>account</c> acts on a Connect account.</summary>
internal static class StripeEndpoints
{
    /// <summary>Creates a Checkout session and reads only its id, URL and expiry: all that creating a checkout needs.</summary>
    public static Task<StripeCheckoutSessionLink> CreateCheckoutSessionAsync(this IStripeClient client, IStripeParameters parameters, string idempotencyKey, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, "/v1/checkout/sessions", parameters, StripeJsonContext.Default.StripeCheckoutSessionLink, new(idempotencyKey), cancellationToken);

    public static Task<StripeCheckoutSession> GetCheckoutSessionAsync(this IStripeClient client, string sessionId, string? account, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/checkout/sessions/" + Segment(sessionId, nameof(sessionId)), null, StripeJsonContext.Default.StripeCheckoutSession, Options(account, "/v1/checkout/sessions/{id}"), cancellationToken);

    /// <summary>Expires an open Checkout session; Stripe answers 400 for one that is complete or expired already.</summary>
    public static Task<StripeCheckoutSession> ExpireCheckoutSessionAsync(this IStripeClient client, string sessionId, string idempotencyKey, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, "/v1/checkout/sessions/" + Segment(sessionId, nameof(sessionId)) + "/expire", null, StripeJsonContext.Default.StripeCheckoutSession, new(idempotencyKey, Endpoint: "/v1/checkout/sessions/{id}/expire"), cancellationToken);

    public static Task<StripeList<StripeLineItem>> ListCheckoutLineItemsAsync(this IStripeClient client, string sessionId, string? startingAfter, string? account, CancellationToken cancellationToken)
    {
        var parameters = new StripeForm { ["limit"] = 100 };
        if (startingAfter is not null)
        {
            parameters["starting_after"] = startingAfter;
        }

        return client.SendAsync(HttpMethod.Get, "/v1/checkout/sessions/" + Segment(sessionId, nameof(sessionId)) + "/line_items", parameters, StripeJsonContext.Default.StripeListStripeLineItem, Options(account, "/v1/checkout/sessions/{id}/line_items"), cancellationToken);
    }

    public static Task<StripePaymentIntent> GetPaymentIntentAsync(this IStripeClient client, string paymentIntentId, string? account, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/payment_intents/" + Segment(paymentIntentId, nameof(paymentIntentId)), null, StripeJsonContext.Default.StripePaymentIntent, Options(account, "/v1/payment_intents/{id}"), cancellationToken);

    public static Task<StripeCustomer> CreateCustomerAsync(this IStripeClient client, StripeForm parameters, string idempotencyKey, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, "/v1/customers", parameters, StripeJsonContext.Default.StripeCustomer, new(idempotencyKey), cancellationToken);

    /// <summary>Updates the fields <paramref name="parameters"/> gives; Stripe answers 404 <c>resource_missing</c> for a customer it does not have.</summary>
    public static Task<StripeCustomer> UpdateCustomerAsync(this IStripeClient client, string customerId, StripeForm parameters, string idempotencyKey, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, "/v1/customers/" + Segment(customerId, nameof(customerId)), parameters, StripeJsonContext.Default.StripeCustomer, new(idempotencyKey, Endpoint: "/v1/customers/{id}"), cancellationToken);

    public static Task<StripeCustomer> GetCustomerAsync(this IStripeClient client, string customerId, string? account, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/customers/" + Segment(customerId, nameof(customerId)), null, StripeJsonContext.Default.StripeCustomer, Options(account, "/v1/customers/{id}"), cancellationToken);

    /// <summary>
    /// A page of the customers <paramref name="query"/> finds: the first (10, as a user's own query finds one), or the one
    /// <paramref name="page"/> (a result's <c>next_page</c>) names (100, Stripe's most).
    /// </summary>
    public static Task<StripeSearchResult<StripeCustomer>> SearchCustomersAsync(this IStripeClient client, string query, string? page, CancellationToken cancellationToken)
    {
        var parameters = new StripeForm { ["query"] = query, ["limit"] = page is null ? 10 : 100 };
        if (page is not null)
        {
            parameters["page"] = page;
        }

        return client.SendAsync(HttpMethod.Get, "/v1/customers/search", parameters, StripeJsonContext.Default.StripeSearchResultStripeCustomer, null, cancellationToken);
    }

    /// <summary>Customers with exactly this email (strongly consistent, unlike search: safe right after a creation).</summary>
    public static Task<StripeList<StripeCustomer>> ListCustomersByEmailAsync(this IStripeClient client, string email, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/customers", new StripeForm { ["email"] = email, ["limit"] = 100 }, StripeJsonContext.Default.StripeListStripeCustomer, null, cancellationToken);

    public static Task<StripeList<StripeSubscription>> ListSubscriptionsAsync(this IStripeClient client, string customerId, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/subscriptions", new StripeForm { ["customer"] = customerId, ["limit"] = 10 }, StripeJsonContext.Default.StripeListStripeSubscription, null, cancellationToken);

    public static Task<StripeSubscription> GetSubscriptionAsync(this IStripeClient client, string subscriptionId, string? account, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/subscriptions/" + Segment(subscriptionId, nameof(subscriptionId)), null, StripeJsonContext.Default.StripeSubscription, Options(account, "/v1/subscriptions/{id}"), cancellationToken);

    public static Task<StripeBillingPortalSession> CreateBillingPortalSessionAsync(this IStripeClient client, StripeForm parameters, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Post, "/v1/billing_portal/sessions", parameters, StripeJsonContext.Default.StripeBillingPortalSession, null, cancellationToken);

    public static Task<StripeList<StripeWebhookEndpoint>> ListWebhookEndpointsAsync(this IStripeClient client, CancellationToken cancellationToken) =>
        client.SendAsync(HttpMethod.Get, "/v1/webhook_endpoints", new StripeForm { ["limit"] = 100 }, StripeJsonContext.Default.StripeListStripeWebhookEndpoint, null, cancellationToken);

    /// <summary>
    /// An object's id as one segment of a path: escaped, and refused if it is "." or "..". Escaping leaves dots alone,
    /// and <see cref="Uri"/> resolves those segments away (even as %2E), so such an id from a browser would address the
    /// list of sessions, or another resource, instead of one object. No Stripe id is either.
    /// </summary>
    private static string Segment(string id, string parameterName) => id is "." or ".."
        ? throw new ArgumentException($"'{id}' is not a Stripe object id.", parameterName)
        : Uri.EscapeDataString(id);

    /// <summary>The options of a call on one object: its template names the call in telemetry whatever the id.</summary>
    private static StripeRequestOptions Options(string? account, string endpoint) => new(StripeAccount: account, Endpoint: endpoint);
}
