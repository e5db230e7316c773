using Microsoft.Extensions.DependencyInjection.Extensions;
using Wavhaven.Payments.Customers;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the app's handlers and stores on an <see cref="IStripePaymentsBuilder"/>.</summary>
public static class StripePaymentsBuilderExtensions
{
    /// <summary>Replaces the in-memory customer map with the app's <see cref="ICustomerStore"/>.</summary>
    /// <typeparam name="TStore">The store; registered as a singleton unless already registered by the app.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static IStripePaymentsBuilder UseCustomerStore<TStore>(this IStripePaymentsBuilder builder)
        where TStore : class, ICustomerStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Replace(ServiceDescriptor.Singleton<ICustomerStore, TStore>());
        return builder;
    }
}
