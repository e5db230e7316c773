using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Webhooks;
using Wavhaven.Payments.Webhooks;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the Stripe webhook endpoint.</summary>
public static class StripeWebhookEndpointRouteBuilderExtensions
{
    /// <summary>The default route of the webhook endpoint.</summary>
    public const string DefaultPattern = "/api/webhooks/stripe";

    /// <summary>
    /// Maps <c>POST {pattern}</c> to the Stripe webhook endpoint. It reads the raw body (413 over
    /// <c>Stripe:WebhookMaxBodySize</c>), verifies the signature, handles each event once and answers: 200 for
    /// processed, duplicate or ignored events; 400 with a short reason for a bad signature or body; 409 while
    /// the same event is being processed by another delivery; 500 when a handler failed, so that Stripe retries.
    /// The endpoint allows anonymous callers: the signature is the authentication.
    /// </summary>
    /// <param name="endpoints">The route builder.</param>
    /// <param name="pattern">The route, <c>/api/webhooks/stripe</c> by default.</param>
    /// <returns>The endpoint's convention builder, for the app's own conventions (rate limiting, host filtering…).</returns>
    /// <exception cref="InvalidOperationException"><c>AddStripePayments</c> was not called.</exception>
    public static IEndpointConventionBuilder MapStripeWebhook(this IEndpointRouteBuilder endpoints, [StringSyntax("Route")] string pattern = DefaultPattern)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrEmpty(pattern);
        // Ask whether the processor is registered without creating it: creating it now would freeze the options.
        if (endpoints.ServiceProvider.GetService<IServiceProviderIsService>()?.IsService(typeof(IWebhookProcessor)) != true)
        {
            throw new InvalidOperationException(
                "Unable to find the services MapStripeWebhook needs. Call builder.Services.AddStripePayments(builder.Configuration.GetSection(\"Stripe\")) before mapping the webhook.");
        }

        return endpoints.MapPost(pattern, (RequestDelegate)StripeWebhookEndpoint.HandleAsync)
            .WithDisplayName("Stripe webhook")
            .WithMetadata(new AllowAnonymousAttribute());
    }
}
