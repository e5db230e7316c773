using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>The tables are what the README documents.</summary>
public class SchemaTests
{
    [SkippableFact]
    public async Task PostgreSqlTables_HaveTheDocumentedColumnsAndTypes()
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        await using var db = database.CreateContext();

        var columns = await db.Database.SqlQueryRaw<ColumnInfo>(
                "SELECT table_name AS \"Table\", column_name AS \"Column\", data_type AS \"Type\", is_nullable AS \"Nullable\" FROM information_schema.columns WHERE table_name LIKE 'wavhaven_%'")
            .ToListAsync();

        columns.Where(c => c.Table == "wavhaven_webhook_events").Select(c => (c.Column, c.Type, c.Nullable)).Should().BeEquivalentTo(new[]
        {
            ("id", "character varying", "NO"),
            ("type", "character varying", "NO"),
            ("created", "timestamp with time zone", "YES"),
            ("payload", "text", "YES"),
            ("state", "character varying", "NO"),
            ("attempts", "integer", "NO"),
            ("last_error", "character varying", "YES"),
            ("completed_steps", "text", "YES"),
            ("lease_token", "character varying", "YES"),
            ("lease_expires_at", "timestamp with time zone", "YES"),
            ("next_attempt_at", "timestamp with time zone", "YES"),
            ("received_at", "timestamp with time zone", "NO"),
            ("updated_at", "timestamp with time zone", "NO"),
            ("processed_at", "timestamp with time zone", "YES"),
        });
        columns.Where(c => c.Table == "wavhaven_customers").Select(c => (c.Column, c.Type)).Should().BeEquivalentTo(new[]
        {
            ("tenant_id", "character varying"),
            ("user_id", "character varying"),
            ("customer_id", "character varying"),
            ("created_at", "timestamp with time zone"),
            ("updated_at", "timestamp with time zone"),
        });
    }

    public sealed record ColumnInfo(string Table, string Column, string Type, string Nullable);
}
