using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Internal;

namespace Wavhaven.Payments.EntityFrameworkCore.Customers;

/// <summary>
/// The user → Stripe customer map in <c>wavhaven_customers</c> on the app's DbContext. A save is one upsert
/// statement, outside the change tracker, so that two first checkouts of one user cannot collide.
/// </summary>
internal sealed class EntityFrameworkCustomerStore(DbContext context, TimeProvider timeProvider) : ICustomerStore
{
    private static readonly ConditionalWeakTable<StoreModel, string> UpsertCache = [];

    public async ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key.UserId);
        _ = Upsert();
        var tenant = key.TenantId ?? string.Empty;
        var userId = key.UserId;
        return await context.Set<CustomerRecord>().AsNoTracking()
            .Where(c => c.TenantId == tenant && c.UserId == userId)
            .Select(c => c.CustomerId)
            .FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key.UserId);
        ArgumentException.ThrowIfNullOrEmpty(customerId);
        var now = timeProvider.GetUtcNow().UtcDateTime;
        await StoreCommands.ExecuteAsync(context, Upsert(),
            [("@tenant", key.TenantId ?? string.Empty), ("@user", key.UserId), ("@customer", customerId), ("@now", now)],
            cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask RemoveCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key.UserId);
        _ = Upsert(); // the model's check: a context without the library's tables says so
        var tenant = key.TenantId ?? string.Empty;
        var userId = key.UserId;
        await context.Set<CustomerRecord>()
            .Where(c => c.TenantId == tenant && c.UserId == userId)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    private string Upsert()
    {
        var model = StoreModel.For(context);
        if (UpsertCache.TryGetValue(model, out var cached))
        {
            return cached;
        }

        var table = model.Customers ?? throw new InvalidOperationException(StoreModel.MissingTablesMessage(context));
        var sql = $"""
            INSERT INTO {table} (tenant_id, user_id, customer_id, created_at, updated_at)
            VALUES (@tenant, @user, @customer, @now, @now)
            ON CONFLICT (tenant_id, user_id) DO UPDATE SET customer_id = excluded.customer_id, updated_at = excluded.updated_at
            """;
        return UpsertCache.GetValue(model, _ => sql);
    }
}
