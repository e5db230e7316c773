namespace Wavhaven.Payments.EntityFrameworkCore.Customers;

/// <summary>One row of <c>wavhaven_customers</c>: an app user (within a tenant) and their Stripe customer.</summary>
/// <remarks>
/// Unsealed, with virtual properties: an app whose context uses EF Core's lazy-loading or change-tracking proxies has them
/// checked for every entity type of its model, these included. The stores never materialize one (they project), so no
/// proxy of it is ever made.
/// </remarks>
internal class CustomerRecord
{
    /// <summary>The tenant id, or the empty string for apps without tenants (a key column cannot be null).</summary>
    public virtual string TenantId { get; set; } = string.Empty;

    public virtual string UserId { get; set; } = string.Empty;

    public virtual string CustomerId { get; set; } = string.Empty;

    public virtual DateTime CreatedAt { get; set; }

    public virtual DateTime UpdatedAt { get; set; }
}
