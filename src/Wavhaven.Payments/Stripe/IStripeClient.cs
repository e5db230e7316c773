using System.Text.Json.Serialization.Metadata;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// The seam between the library and Stripe's REST API. Parameters go in as <see cref="IStripeParameters"/>
/// (Stripe's own parameter names, written in its form encoding), objects come back as the library's models, so a client backed by
/// Stripe.net's raw-request API could stand in for <see cref="StripeHttpClient"/>.
/// </summary>
internal interface IStripeClient
{
    /// <summary>Sends one API request, with Stripe's retry rules, and reads the answer.</summary>
    /// <exception cref="StripeApiException">Stripe answered with an error.</exception>
    /// <exception cref="StripeConnectionException">Stripe could not be reached on any attempt.</exception>
    Task<T> SendAsync<T>(
        HttpMethod method,
        string path,
        IStripeParameters? parameters,
        JsonTypeInfo<T> responseType,
        StripeRequestOptions? options = null,
        CancellationToken cancellationToken = default);
}

/// <summary>Per-request settings.</summary>
/// <param name="IdempotencyKey">The key for a POST; one is generated when absent. Every retry reuses it.</param>
/// <param name="StripeAccount">The connected account to act on (<c>Stripe-Account</c>), for Connect platforms.</param>
/// <param name="Endpoint">
/// The path's template for telemetry (<c>/v1/checkout/sessions/{id}</c>), for a path that holds an id from outside: the
/// success page's session id comes from the browser, and guessing whether a segment is an id would let a visitor mint
/// tag values. Worked out from the path when absent.
/// </param>
internal sealed record StripeRequestOptions(string? IdempotencyKey = null, string? StripeAccount = null, string? Endpoint = null);
