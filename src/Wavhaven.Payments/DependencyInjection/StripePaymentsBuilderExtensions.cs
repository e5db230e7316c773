using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the app's handlers and stores on an <see cref="IStripePaymentsBuilder"/>.</summary>
/// <remarks>
/// The container creates the registered classes through their public constructors; the type parameters say so, so
/// that a trimmed or Native AOT app keeps those constructors.
/// </remarks>
public static class StripePaymentsBuilderExtensions
{
    /// <summary>
    /// Registers a fulfillment handler (scoped, so it may use the app's DbContext). Each handler serves one
    /// <see cref="IFulfillmentHandler.Type"/>, which must not change; two handlers of one type fail the host's start.
    /// Once the first purchase has shown every handler's type, a purchase creates only the handler of its own.
    /// </summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder AddFulfillmentHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IStripePaymentsBuilder builder)
        where THandler : class, IFulfillmentHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Scoped<IFulfillmentHandler, THandler>());
        // Resolved by class once its type is known (see FulfillmentRunner), under the library's key: never the app's own
        // registration of the class, whose lifetime may differ.
        builder.Services.TryAddKeyedScoped<THandler>(FulfillmentRunner.HandlerKey);
        return builder;
    }

    /// <summary>Registers a subscription handler (scoped).</summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder AddSubscriptionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IStripePaymentsBuilder builder)
        where THandler : class, ISubscriptionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Scoped<ISubscriptionHandler, THandler>());
        return builder;
    }

    /// <summary>Registers a handler that sees every verified event of every type (scoped).</summary>
    /// <typeparam name="THandler">The handler.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder AddEventHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this IStripePaymentsBuilder builder)
        where THandler : class, IStripeEventHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Scoped<IStripeEventHandler, THandler>());
        return builder;
    }

    /// <summary>Replaces the in-memory customer map with the app's <see cref="ICustomerStore"/>.</summary>
    /// <typeparam name="TStore">The store.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="lifetime">The store's lifetime: scoped (the default) suits stores on a DbContext.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder UseCustomerStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this IStripePaymentsBuilder builder, ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TStore : class, ICustomerStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Describe(typeof(ICustomerStore), typeof(TStore), lifetime));
        return builder;
    }

    /// <summary>
    /// Replaces the in-memory event store with the app's <see cref="IWebhookEventStore"/>: a durable one survives
    /// restarts and is shared by all instances of the app.
    /// </summary>
    /// <typeparam name="TStore">The store.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="lifetime">The store's lifetime: scoped (the default) suits stores on a DbContext.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder UseEventStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this IStripePaymentsBuilder builder, ServiceLifetime lifetime = ServiceLifetime.Scoped)
        where TStore : class, IWebhookEventStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Describe(typeof(IWebhookEventStore), typeof(TStore), lifetime));
        return builder;
    }
}
