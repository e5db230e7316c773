namespace Wavhaven.Payments.Customers;

/// <summary>Identifies an app user, within a tenant for multi-tenant apps.</summary>
/// <param name="UserId">The app's user id: at most 255 characters, the width of the durable customer map's key.</param>
/// <param name="TenantId">The app's tenant id, or <see langword="null"/>; the resolver refuses a blank one, which Stripe's metadata could not tell from none.</param>
public readonly record struct CustomerKey(string UserId, string? TenantId = null);

/// <summary>
/// Remembers which Stripe customer belongs to which app user. The default keeps the map in memory; use a
/// durable store (e.g. the Entity Framework Core package) so that the map survives restarts.
/// </summary>
public interface ICustomerStore
{
    /// <summary>Gets the user's Stripe customer id, or <see langword="null"/> when none is known.</summary>
    ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default);

    /// <summary>Saves the user's Stripe customer id.</summary>
    ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Forgets the user's Stripe customer id, if one is saved (an erasure request: see
    /// <see cref="ICustomerResolver.ForgetCustomerAsync"/>, which calls it).
    /// </summary>
    /// <remarks>
    /// The default implementation throws <see cref="NotSupportedException"/>: it is there so that stores written before this
    /// method still compile and load. The library's stores implement it.
    /// </remarks>
    ValueTask RemoveCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().FullName} does not implement ICustomerStore.RemoveCustomerIdAsync.");
}
