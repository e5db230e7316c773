using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;
using Wavhaven.Payments;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Wavhaven.Payments in a service collection.</summary>
public static class StripePaymentsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the library with options bound from a configuration section (usually <c>Stripe</c>).
    /// Unknown keys in the section are errors, and the options are validated when the host starts.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section, e.g. <c>builder.Configuration.GetSection("Stripe")</c>.</param>
    /// <returns>A builder to register handlers and stores with.</returns>
    public static IStripePaymentsBuilder AddStripePayments(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<StripePaymentsOptions>().Configure(options => StripePaymentsOptionsBinder.Bind(configuration, options));
        services.AddSingleton<IOptionsChangeTokenSource<StripePaymentsOptions>>(new ConfigurationChangeTokenSource<StripePaymentsOptions>(configuration));
        return AddCore(services);
    }

    /// <summary>Registers the library with options set in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>A builder to register handlers and stores with.</returns>
    public static IStripePaymentsBuilder AddStripePayments(this IServiceCollection services, Action<StripePaymentsOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<StripePaymentsOptions>().Configure(configure);
        return AddCore(services);
    }

    private static StripePaymentsBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<StripePaymentsOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StripePaymentsOptions>, StripePaymentsOptionsAttributeValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<StripePaymentsOptions>, StripePaymentsOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);

        // Stripe's API never redirects, and Stripe's clients follow no redirect: a 3xx (a proxy's, a gateway's) followed would
        // send the request's body (buyers' emails and names), its idempotency key and Stripe-Account to another host, and
        // take that host's answer (a Checkout URL to send the buyer to) as Stripe's. An app's own primary handler, set
        // after this, keeps its own setting.
        services.AddHttpClient(StripeHttpClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(static (handler, _) =>
            {
                switch (handler)
                {
                    case HttpClientHandler clientHandler:
                        clientHandler.AllowAutoRedirect = false;
                        break;
                    case SocketsHttpHandler socketsHandler:
                        socketsHandler.AllowAutoRedirect = false;
                        break;
                }
            })
            .RedactLoggedHeaders(static _ => true);

        services.TryAddSingleton<IStripeClient, StripeHttpClient>();
        services.TryAddSingleton<IPlanCatalog, PlanCatalog>();
        services.TryAddSingleton<ICustomerStore, InMemoryCustomerStore>();
        services.TryAddSingleton<CustomerLookups>();

        // Scoped: they reach the stores and handlers, which may live on the app's DbContext.
        services.TryAddScoped<ICustomerResolver, CustomerResolver>();
        services.TryAddScoped<ICheckoutService, CheckoutService>();
        services.TryAddScoped<IBillingPortalService, BillingPortalService>();

        services.AddOptions<InMemoryWebhookEventStoreOptions>();
        services.TryAddSingleton<IWebhookEventStore, InMemoryWebhookEventStore>();
        services.TryAddSingleton<FulfillmentRunner>();
        services.TryAddSingleton<SubscriptionChangeFactory>();
        services.TryAddSingleton<WebhookDispatcher>();
        services.TryAddSingleton<IWebhookProcessor, WebhookProcessor>();
        services.TryAddSingleton<WebhookQueueSignal>();
        services.TryAddScoped<IWebhookEventAdmin, WebhookEventAdmin>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WebhookQueueWorker>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, WebhookEventPruner>());
        services.AddOptions<HandlerRegistrationCheck>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HandlerRegistrationCheck>, HandlerRegistrationValidator>());
        return new StripePaymentsBuilder(services);
    }
}
