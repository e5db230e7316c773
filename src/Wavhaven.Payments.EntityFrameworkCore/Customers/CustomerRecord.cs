namespace Wavhaven.Payments.EntityFrameworkCore.Customers;

/// <summary>One row of <c>wavhaven_customers</c>: an app user (within a tenant) and their Stripe customer.</summary>
internal sealed class CustomerRecord
{
    /// <summary>The tenant id, or the empty string for apps without tenants (a key column cannot be null).</summary>
    public string TenantId { get; set; } = string.Empty;

    public string UserId { get; set; } = string.Empty;

    public string CustomerId { get; set; } = string.Empty;

    public DateTime CreatedAt { get; set; }

    public DateTime UpdatedAt { get; set; }
}
