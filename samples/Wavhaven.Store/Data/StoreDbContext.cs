using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Wavhaven.Store.Data;

/// <summary>The store's database: identity, beats, orders, licences, refunds owed, the mailbox and subscriptions.</summary>
public sealed class StoreDbContext(DbContextOptions<StoreDbContext> options) : IdentityDbContext<StoreUser>(options)
{
    public DbSet<Beat> Beats => Set<Beat>();

    public DbSet<Order> Orders => Set<Order>();

    public DbSet<OrderItem> OrderItems => Set<OrderItem>();

    public DbSet<License> Licenses => Set<License>();

    public DbSet<OwedRefund> OwedRefunds => Set<OwedRefund>();

    public DbSet<MailMessage> Mailbox => Set<MailMessage>();

    public DbSet<ProSubscription> ProSubscriptions => Set<ProSubscription>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);

        // The library's webhook event log and customer map live in the store's own database, so a handler's
        // writes and the event's "processed" mark commit in one transaction.
        builder.AddStripePayments();
        builder.Entity<Order>().HasMany(order => order.Items).WithOne().HasForeignKey(item => item.OrderId);
        builder.Entity<Order>().Property(order => order.Status).HasConversion<string>();
        builder.Entity<Order>().HasIndex(order => order.CheckoutSessionId);
        builder.Entity<Order>().HasIndex(order => order.Reference).IsUnique();
        builder.Entity<OwedRefund>().HasOne<Order>().WithMany().HasForeignKey(refund => refund.OrderId);
        builder.Entity<OwedRefund>().HasIndex(refund => refund.SessionId).IsUnique();
        builder.Entity<License>().HasIndex(license => license.UserId);
        builder.Entity<License>().HasIndex(license => new { license.OrderId, license.BeatId }).IsUnique();
        builder.Entity<ProSubscription>().HasKey(subscription => subscription.UserId);

        // SQLite cannot order or compare DateTimeOffset columns; store them as Unix milliseconds.
        foreach (var entity in builder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties().Where(p => p.ClrType == typeof(DateTimeOffset) || p.ClrType == typeof(DateTimeOffset?)))
            {
                property.SetValueConverter(property.ClrType == typeof(DateTimeOffset)
                    ? new Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset, long>(v => v.ToUnixTimeMilliseconds(), v => DateTimeOffset.FromUnixTimeMilliseconds(v))
                    : new Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<DateTimeOffset?, long?>(v => v.HasValue ? v.Value.ToUnixTimeMilliseconds() : null, v => v.HasValue ? DateTimeOffset.FromUnixTimeMilliseconds(v.Value) : null));
            }
        }
    }
}
