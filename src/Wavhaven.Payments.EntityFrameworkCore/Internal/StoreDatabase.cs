using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Wavhaven.Payments.EntityFrameworkCore.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Internal;

/// <summary>The database flavours the stores speak: both take <c>INSERT … ON CONFLICT</c> and <c>RETURNING</c>.</summary>
internal enum StoreProvider
{
    Sqlite,
    PostgreSql,
}

/// <summary>The stores' tables as the app's model names them, and its provider, read once per model.</summary>
internal sealed class StoreModel
{
    private const string SqliteProvider = "Microsoft.EntityFrameworkCore.Sqlite";
    private const string NpgsqlProvider = "Npgsql.EntityFrameworkCore.PostgreSQL";

    private static readonly ConditionalWeakTable<IModel, StoreModel> Cache = [];

    private StoreModel(StoreProvider provider, string? webhookEvents, string? customers)
    {
        Provider = provider;
        WebhookEvents = webhookEvents;
        Customers = customers;
    }

    public StoreProvider Provider { get; }

    /// <summary>Gets the delimited name of the events table, or <see langword="null"/> when the model lacks it.</summary>
    public string? WebhookEvents { get; }

    /// <summary>Gets the delimited name of the customers table, or <see langword="null"/> when the model lacks it.</summary>
    public string? Customers { get; }

    public static StoreModel For(DbContext context)
    {
        var model = context.Model;
        if (Cache.TryGetValue(model, out var cached))
        {
            return cached;
        }

        var provider = context.Database.ProviderName switch
        {
            SqliteProvider => StoreProvider.Sqlite,
            NpgsqlProvider => StoreProvider.PostgreSql,
            var other => throw new NotSupportedException(
                $"The Wavhaven.Payments stores run on SQLite ({SqliteProvider}) and PostgreSQL ({NpgsqlProvider}); {context.GetType().Name} uses {other ?? "no provider"}."),
        };

        var sql = context.GetService<ISqlGenerationHelper>();
        var created = new StoreModel(provider, TableName<WebhookEventRecord>(model, sql), TableName<CustomerRecord>(model, sql));
        return Cache.GetValue(model, _ => created);
    }

    public static string MissingTablesMessage(DbContext context) =>
        $"{context.GetType().Name} has no Wavhaven.Payments tables. Call modelBuilder.AddStripePayments() in its OnModelCreating, then create the tables (a migration, or Database.EnsureCreated()).";

    private static string? TableName<TEntity>(IModel model, ISqlGenerationHelper sql)
    {
        var entity = model.FindEntityType(typeof(TEntity));
        return entity?.GetTableName() is { } table ? sql.DelimitIdentifier(table, entity.GetSchema()) : null;
    }
}

/// <summary>Runs the stores' SQL on the context's connection, inside its current transaction if there is one.</summary>
internal static class StoreCommands
{
    public static async Task<TResult> RunAsync<TResult>(
        DbContext context,
        string sql,
        IReadOnlyList<(string Name, object? Value)> parameters,
        Func<DbCommand, CancellationToken, Task<TResult>> execute,
        CancellationToken cancellationToken)
    {
        var database = context.Database;
        await database.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var command = database.GetDbConnection().CreateCommand();
            await using (command.ConfigureAwait(false))
            {
#pragma warning disable CA2100 // The SQL is the stores' own, with table names from the model; values are parameters.
                command.CommandText = sql;
#pragma warning restore CA2100
                command.Transaction = database.CurrentTransaction?.GetDbTransaction();
                if (database.GetCommandTimeout() is { } timeout)
                {
                    command.CommandTimeout = timeout;
                }

                foreach (var (name, value) in parameters)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = name;
                    parameter.Value = value ?? DBNull.Value;
                    command.Parameters.Add(parameter);
                }

                return await execute(command, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await database.CloseConnectionAsync().ConfigureAwait(false);
        }
    }

    public static Task<int> ExecuteAsync(DbContext context, string sql, IReadOnlyList<(string Name, object? Value)> parameters, CancellationToken cancellationToken) =>
        RunAsync(context, sql, parameters, static (command, ct) => command.ExecuteNonQueryAsync(ct), cancellationToken);
}
