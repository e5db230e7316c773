using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

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

    /// <summary>
    /// The health check lists dead and given-up failed events on every probe. Without an index on the state those are
    /// scans of the whole table, which keeps every processed event for the retention (30 days by default): on a busy
    /// store millions of rows, every few seconds. A partial index holds only failed and dead rows, so it costs the
    /// happy path (received, processing, processed) nothing.
    /// </summary>
    [SkippableTheory]
    [InlineData("SELECT id FROM wavhaven_webhook_events WHERE state = 'dead' ORDER BY updated_at DESC LIMIT 1000")]
    [InlineData("SELECT id FROM wavhaven_webhook_events WHERE state = 'failed' AND next_attempt_at IS NULL AND payload IS NOT NULL AND COALESCE(created, received_at) < now() ORDER BY updated_at DESC LIMIT 1000")]
    public async Task PostgreSql_TheHealthChecksListsOfFailedAndDeadEvents_UseAnIndex_NotAScanOfEveryEvent(string query)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.PostgreSql);
        await using var db = database.CreateContext();
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO wavhaven_webhook_events (id, type, payload, state, attempts, received_at, updated_at, processed_at)
            SELECT 'evt_' || n, 'invoice.paid', 'x', 'processed', 1, now(), now(), now() FROM generate_series(1, 20000) AS n;
            INSERT INTO wavhaven_webhook_events (id, type, payload, state, attempts, received_at, updated_at, created)
            VALUES ('evt_dead', 'invoice.paid', 'x', 'dead', 12, now(), now(), now() - interval '4 days'),
                   ('evt_failed', 'invoice.paid', 'x', 'failed', 3, now(), now(), now() - interval '4 days');
            ANALYZE wavhaven_webhook_events;
            """);

        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN " + query;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(0));
            }
        }

        string.Join("\n", plan).Should().Contain("ix_wavhaven_webhook_events_state_updated_at").And.NotContain("Seq Scan");
    }

    /// <summary>
    /// The same, for the statements the store sends (its own SQL text and parameters, as EF Core generates them), on both
    /// providers. SQLite uses a partial index only when the query's WHERE names the index's own condition: <c>state = 'dead'</c>,
    /// or <c>state = @p</c>, is not enough, and every probe scans the whole table.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task TheHealthChecksListsOfFailedAndDeadEvents_AsTheStoreQueriesThem_UseTheIndex(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        await using (var db = database.CreateContext())
        {
            await db.Database.ExecuteSqlRawAsync(kind == DatabaseKind.PostgreSql
                ? """
                    INSERT INTO wavhaven_webhook_events (id, type, payload, state, attempts, received_at, updated_at, processed_at)
                    SELECT 'evt_' || n, 'invoice.paid', 'x', 'processed', 1, now(), now(), now() FROM generate_series(1, 20000) AS n;
                    ANALYZE wavhaven_webhook_events;
                    """
                : """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
                    INSERT INTO wavhaven_webhook_events (id, type, payload, state, attempts, received_at, updated_at, processed_at)
                    SELECT 'evt_' || i, 'invoice.paid', 'x', 'processed', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n;
                    ANALYZE;
                    """);
        }

        var recorder = new CommandRecorder();
        var services = new ServiceCollection();
        services.AddDbContext<TestDbContext>(o => database.Configure(o.AddInterceptors(recorder)));
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<TestDbContext>();
        await using var provider = services.BuildServiceProvider();
        await using (var scope = provider.CreateAsyncScope())
        {
            var queue = (IWebhookEventQueue)scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
            await queue.ListAsync(WebhookEventState.Dead, 1000);
            await queue.ListAsync(WebhookEventState.Failed, 1000);
            await queue.ListGivenUpAsync(DateTimeOffset.UtcNow.AddDays(-3), 1000);
        }

        recorder.Commands.Should().HaveCount(3);
        await using var context = database.CreateContext();
        var connection = context.Database.GetDbConnection();
        await connection.OpenAsync();
        foreach (var (sql, parameters) in recorder.Commands)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = (kind == DatabaseKind.PostgreSql ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + sql;
            foreach (var (name, value) in parameters)
            {
                var parameter = command.CreateParameter();
                parameter.ParameterName = name;
                parameter.Value = value;
                command.Parameters.Add(parameter);
            }

            var plan = new List<string>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(reader.FieldCount - 1));
                }
            }

            string.Join("\n", plan).Should().Contain("ix_wavhaven_webhook_events_state_updated_at", "the store's query\n{0}\nshould not scan every event", sql)
                .And.NotContain("Seq Scan").And.NotContain("SCAN wavhaven_webhook_events");
        }
    }

    public sealed record ColumnInfo(string Table, string Column, string Type, string Nullable);
}

/// <summary>Records the SQL and parameters of the queries EF Core sends.</summary>
public sealed class CommandRecorder : DbCommandInterceptor
{
    public List<(string Sql, List<(string Name, object Value)> Parameters)> Commands { get; } = [];

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        lock (Commands)
        {
            Commands.Add((command.CommandText, command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, p.Value!)).ToList()));
        }

        return base.ReaderExecutingAsync(command, eventData, result, cancellationToken);
    }
}
