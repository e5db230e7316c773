using System.Collections.Concurrent;

namespace Wavhaven.Payments.Customers;

/// <summary>The default <see cref="ICustomerStore"/>: a map in memory, lost on restart (Stripe's search finds the customers again).</summary>
internal sealed class InMemoryCustomerStore : ICustomerStore
{
    private readonly ConcurrentDictionary<CustomerKey, string> _customers = new();

    public ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_customers.TryGetValue(key, out var customerId) ? customerId : null);

    public ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        _customers[key] = customerId;
        return ValueTask.CompletedTask;
    }

    public ValueTask RemoveCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
    {
        _customers.TryRemove(key, out _);
        return ValueTask.CompletedTask;
    }
}
