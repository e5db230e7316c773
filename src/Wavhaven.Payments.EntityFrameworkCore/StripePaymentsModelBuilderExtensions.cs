using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Wavhaven.Payments.EntityFrameworkCore.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;

namespace Microsoft.EntityFrameworkCore;

/// <summary>Adds the tables of Wavhaven.Payments to the app's own <see cref="DbContext"/>.</summary>
public static class StripePaymentsModelBuilderExtensions
{
    /// <summary>The name of the table of webhook events and purchase claims.</summary>
    internal const string WebhookEventsTable = "wavhaven_webhook_events";

    /// <summary>The name of the table of the user → Stripe customer map.</summary>
    internal const string CustomersTable = "wavhaven_customers";

    // Times are written in UTC; SQLite hands them back without a kind.
    private static readonly Storage.ValueConversion.ValueConverter<DateTime, DateTime> Utc = new(
        value => value, value => DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static readonly Storage.ValueConversion.ValueConverter<DateTime?, DateTime?> NullableUtc = new(
        value => value, value => value.HasValue ? DateTime.SpecifyKind(value.Value, DateTimeKind.Utc) : value);

    /// <summary>
    /// Adds the tables <c>wavhaven_webhook_events</c> (the event log and queue) and <c>wavhaven_customers</c>
    /// (the user → Stripe customer map) to the model. Call it from <c>OnModelCreating</c>, then create them with
    /// a migration or <c>Database.EnsureCreated()</c>. Works on SQLite and PostgreSQL.
    /// </summary>
    /// <param name="modelBuilder">The app's model builder.</param>
    /// <param name="schema">The schema of both tables; <see langword="null"/> for the model's default schema.</param>
    /// <returns>The model builder.</returns>
    public static ModelBuilder AddStripePayments(this ModelBuilder modelBuilder, string? schema = null)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<WebhookEventRecord>(ConfigureWebhookEvents);
        modelBuilder.Entity<CustomerRecord>(ConfigureCustomers);
        if (schema is not null)
        {
            modelBuilder.Entity<WebhookEventRecord>().ToTable(WebhookEventsTable, schema);
            modelBuilder.Entity<CustomerRecord>().ToTable(CustomersTable, schema);
        }

        return modelBuilder;
    }

    private static void ConfigureWebhookEvents(EntityTypeBuilder<WebhookEventRecord> entity)
    {
        entity.ToTable(WebhookEventsTable);
        entity.HasKey(e => e.Id).HasName("pk_wavhaven_webhook_events");
        entity.Property(e => e.Id).HasColumnName("id").HasMaxLength(255);
        entity.Property(e => e.Type).HasColumnName("type").HasMaxLength(255).IsRequired();
        entity.Property(e => e.Created).HasColumnName("created").HasConversion(NullableUtc);
        // Unbounded whatever the app's conventions say (Properties<string>().HaveMaxLength(…) would bound it): an event is
        // several KB, and a column it does not fit in fails every delivery.
        entity.Property(e => e.Payload).HasColumnName("payload").HasMaxLength(-1);
        entity.Property(e => e.State).HasColumnName("state").HasMaxLength(16).IsRequired();
        entity.Property(e => e.Attempts).HasColumnName("attempts");
        entity.Property(e => e.LastError).HasColumnName("last_error").HasMaxLength(EntityFrameworkWebhookEventStore.MaxErrorLength);
        entity.Property(e => e.CompletedSteps).HasColumnName("completed_steps").HasMaxLength(-1);
        entity.Property(e => e.LeaseToken).HasColumnName("lease_token").HasMaxLength(32);
        entity.Property(e => e.LeaseExpiresAt).HasColumnName("lease_expires_at").HasConversion(NullableUtc);
        entity.Property(e => e.NextAttemptAt).HasColumnName("next_attempt_at").HasConversion(NullableUtc);
        entity.Property(e => e.ReceivedAt).HasColumnName("received_at").HasConversion(Utc);
        entity.Property(e => e.UpdatedAt).HasColumnName("updated_at").HasConversion(Utc);
        entity.Property(e => e.ProcessedAt).HasColumnName("processed_at").HasConversion(NullableUtc);

        // The worker's query walks the queued rows in due order; every other row has no next_attempt_at, so
        // the walk stays short however many processed events the table keeps.
        entity.HasIndex(e => e.NextAttemptAt).HasDatabaseName("ix_wavhaven_webhook_events_next_attempt_at");

        // The health check lists failed and dead events on every probe, newest first. Only those rows are indexed (the
        // filter names the column, whose name is fixed): the happy path, received to processed, never touches it, and
        // the probes do not scan the processed events the table keeps for the retention.
        entity.HasIndex(e => new { e.State, e.UpdatedAt })
            .HasDatabaseName("ix_wavhaven_webhook_events_state_updated_at")
            .HasFilter("state IN ('failed', 'dead')");
    }

    private static void ConfigureCustomers(EntityTypeBuilder<CustomerRecord> entity)
    {
        entity.ToTable(CustomersTable);
        entity.HasKey(c => new { c.TenantId, c.UserId }).HasName("pk_wavhaven_customers");
        entity.Property(c => c.TenantId).HasColumnName("tenant_id").HasMaxLength(255);
        entity.Property(c => c.UserId).HasColumnName("user_id").HasMaxLength(255);
        entity.Property(c => c.CustomerId).HasColumnName("customer_id").HasMaxLength(255).IsRequired();
        entity.Property(c => c.CreatedAt).HasColumnName("created_at").HasConversion(Utc);
        entity.Property(c => c.UpdatedAt).HasColumnName("updated_at").HasConversion(Utc);
        entity.HasIndex(c => c.CustomerId).HasDatabaseName("ix_wavhaven_customers_customer_id");
    }
}
