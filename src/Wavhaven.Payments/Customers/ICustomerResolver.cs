namespace Wavhaven.Payments.Customers;

/// <summary>Finds, or creates, the Stripe customer of an app user.</summary>
public interface ICustomerResolver
{
    /// <summary>
    /// Finds the user's customer: in the <see cref="ICustomerStore"/>, then by Stripe search on the user id
    /// the library keeps in the customer's metadata. Returns <see langword="null"/> when the user has none.
    /// </summary>
    Task<string?> FindCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the user's customer, or creates it with the email and name given. Concurrent calls for one user
    /// create one customer: calls in this process share one lookup, and the creation's idempotency key is
    /// derived from the user id, so that Stripe answers a second instance's creation with the same customer.
    /// </summary>
    Task<string> GetOrCreateCustomerIdAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default);
}
