using Microsoft.EntityFrameworkCore;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

/// <summary>An app's own DbContext: its orders, and the library's tables added to it.</summary>
public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>().ToTable("orders");
        modelBuilder.AddStripePayments();
    }
}

public sealed class Order
{
    public int Id { get; set; }

    public required string SessionId { get; set; }

    public required string EventId { get; set; }
}

/// <summary>A context that forgot <c>AddStripePayments()</c>.</summary>
public sealed class ContextWithoutTables(DbContextOptions<ContextWithoutTables> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();
}
