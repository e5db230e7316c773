using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

public enum DatabaseKind
{
    Sqlite,
    PostgreSql,
}

/// <summary>
/// A fresh database per test: a SQLite file in the temp folder, or a new database on the PostgreSQL server
/// that <c>WAVHAVEN_TEST_POSTGRES</c> names. Without that variable the PostgreSQL tests are skipped, except on
/// CI (<c>CI=true</c>), where they fail.
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "WAVHAVEN_TEST_POSTGRES";

    private readonly string? _sqliteFile;
    private readonly string? _postgresAdmin;
    private readonly string? _postgresName;

    private TestDatabase(DatabaseKind kind, string connectionString, string? sqliteFile, string? postgresAdmin, string? postgresName)
    {
        Kind = kind;
        ConnectionString = connectionString;
        _sqliteFile = sqliteFile;
        _postgresAdmin = postgresAdmin;
        _postgresName = postgresName;
    }

    public DatabaseKind Kind { get; }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(DatabaseKind kind)
    {
        TestDatabase database;
        if (kind == DatabaseKind.Sqlite)
        {
            var folder = Path.Combine(Path.GetTempPath(), "wavhaven-tests");
            Directory.CreateDirectory(folder);
            var file = Path.Combine(folder, Guid.NewGuid().ToString("N") + ".db");
            database = new TestDatabase(kind, new SqliteConnectionStringBuilder { DataSource = file, DefaultTimeout = 60 }.ToString(), file, null, null);
        }
        else
        {
            var server = Environment.GetEnvironmentVariable(PostgresVariable);
            if (string.IsNullOrEmpty(server))
            {
                if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException($"{PostgresVariable} is not set, and PostgreSQL tests must run on CI. .ci/run sets it up.");
                }

                Skip.If(true, $"{PostgresVariable} is not set: set it to a PostgreSQL connection string whose role may create databases to run this test.");
            }

            var name = "wavhaven_test_" + Guid.NewGuid().ToString("N")[..16];
            var builder = new NpgsqlConnectionStringBuilder(server) { Database = name, MaxPoolSize = 40, Timeout = 30, CommandTimeout = 60 };
            database = new TestDatabase(kind, builder.ToString(), null, server, name);
        }

        await using (var context = database.CreateContext())
        {
            await context.Database.EnsureCreatedAsync();
            if (kind == DatabaseKind.Sqlite)
            {
                // Readers do not wait for the writer, as on a server; the file remembers the mode.
                await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
            }
        }

        return database;
    }

    public void Configure(DbContextOptionsBuilder options)
    {
        if (Kind == DatabaseKind.Sqlite)
        {
            options.UseSqlite(ConnectionString);
        }
        else
        {
            options.UseNpgsql(ConnectionString);
        }
    }

    public TestDbContext CreateContext()
    {
        var options = new DbContextOptionsBuilder<TestDbContext>();
        Configure(options);
        return new TestDbContext(options.Options);
    }

    public async ValueTask DisposeAsync()
    {
        if (_sqliteFile is not null)
        {
            SqliteConnection.ClearAllPools();
            foreach (var file in new[] { _sqliteFile, _sqliteFile + "-wal", _sqliteFile + "-shm" })
            {
                File.Delete(file);
            }

            return;
        }

        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(_postgresAdmin);
        await admin.OpenAsync();

        // FORCE cannot end a backend our role does not own (an autovacuum worker visiting the new database, say):
        // try again shortly, and leave the database behind rather than fail a test that passed over its cleanup.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
                return;
            }
            catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
            {
                if (attempt == 10)
                {
                    Console.Error.WriteLine($"Test database {_postgresName} was left behind: {exception.MessageText}");
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt));
            }
        }
    }
}
