using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Wavhaven.Payments;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Internal;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Webhooks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the Entity Framework Core stores on an <see cref="IStripePaymentsBuilder"/>.</summary>
public static class StripePaymentsEntityFrameworkBuilderExtensions
{
    /// <summary>
    /// Keeps the webhook event log (and queue) and the user → Stripe customer map in the app's database, through
    /// <typeparamref name="TContext"/>: it survives restarts and is shared by every instance of the app. The
    /// context must be registered (e.g. <c>AddDbContext</c>), call <c>modelBuilder.AddStripePayments()</c> in its
    /// <c>OnModelCreating</c>, and use SQLite or PostgreSQL; the host's start fails otherwise.
    /// </summary>
    /// <remarks>
    /// The stores are scoped and use the same context instance as the handlers of a delivery, so that
    /// handlers writing through it commit together with the event's "processed" mark.
    /// </remarks>
    /// <typeparam name="TContext">The app's DbContext.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder UseEntityFrameworkStores<TContext>(this IStripePaymentsBuilder builder)
        where TContext : DbContext
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.Replace(ServiceDescriptor.Scoped<IWebhookEventStore>(provider => new EntityFrameworkWebhookEventStore(
            provider.GetRequiredService<TContext>(),
            provider.GetRequiredService<IOptions<StripePaymentsOptions>>(),
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<IServiceScopeFactory>(),
            typeof(TContext))));
        services.Replace(ServiceDescriptor.Scoped<ICustomerStore>(provider => new EntityFrameworkCustomerStore(
            provider.GetRequiredService<TContext>(),
            provider.GetRequiredService<TimeProvider>())));
        services.AddOptions<EntityFrameworkStoresCheck>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EntityFrameworkStoresCheck>, EntityFrameworkStoresValidator<TContext>>());
        return builder;
    }
}

/// <summary>A marker whose validation, at start-up, checks the context the stores use.</summary>
internal sealed class EntityFrameworkStoresCheck;

/// <summary>Fails the host's start when the stores' context is missing, lacks the tables, or runs on an unsupported provider.</summary>
internal sealed class EntityFrameworkStoresValidator<TContext>(IServiceScopeFactory scopes) : IValidateOptions<EntityFrameworkStoresCheck>
    where TContext : DbContext
{
    public ValidateOptionsResult Validate(string? name, EntityFrameworkStoresCheck options)
    {
        using var scope = scopes.CreateScope();
        var context = scope.ServiceProvider.GetService<TContext>();
        if (context is null)
        {
            return ValidateOptionsResult.Fail(
                $"UseEntityFrameworkStores<{typeof(TContext).Name}>() needs {typeof(TContext).Name} registered: call builder.Services.AddDbContext<{typeof(TContext).Name}>(…).");
        }

        if (!ReferenceEquals(context, scope.ServiceProvider.GetService<TContext>()))
        {
            // Transient: the stores and each handler would get instances of their own, and the handlers' writes would commit
            // on their own connection, outside the transaction of the event's processed mark (or wait for its lock, on SQLite).
            return ValidateOptionsResult.Fail(
                $"UseEntityFrameworkStores<{typeof(TContext).Name}>() needs {typeof(TContext).Name} registered as scoped (AddDbContext's default, or AddDbContextPool), not transient: the stores and your handlers must share one instance per delivery, so that the handlers' writes commit with the event's processed mark.");
        }

        try
        {
            var model = StoreModel.For(context);
            return model.WebhookEvents is null || model.Customers is null
                ? ValidateOptionsResult.Fail(StoreModel.MissingTablesMessage(context))
                : ValidateOptionsResult.Success;
        }
        catch (NotSupportedException exception)
        {
            return ValidateOptionsResult.Fail(exception.Message);
        }
    }
}
