using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Fulfillment;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Webhooks;

/// <summary>
/// A fulfillment handler that writes its order through a DbContext other than the one the library's tables are in (an
/// app with a context per module, or one made by IDbContextFactory), on the same database: the README promises nothing
/// atomic for it, but the handler must still be able to fulfil the purchase.
/// </summary>
public class HandlerOwnContextTests
{
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task HandlerWritingThroughAnotherContextOnTheSameDatabase_FulfilsThePurchase(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var app = await WebhookTestApp.StartAsync(
            payments: payments => payments.UseEntityFrameworkStores<TestDbContext>().AddFulfillmentHandler<OtherContextOrderWriter>(),
            services: services =>
            {
                services.AddDbContext<TestDbContext>(database.Configure);
                // The app's orders module: its own context type on the same database (a shorter busy timeout than the
                // default 30 s on SQLite, so the test ends quickly: a longer one only makes the failure slower).
                services.AddDbContext<OrdersDbContext>(options =>
                {
                    if (kind == DatabaseKind.Sqlite)
                    {
                        options.UseSqlite(new SqliteConnectionStringBuilder(database.ConnectionString) { DefaultTimeout = 3 }.ToString());
                    }
                    else
                    {
                        options.UseNpgsql(database.ConnectionString);
                    }
                });
                services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
            },
            logLevel: LogLevel.Warning);
        await using var _ = app;
        app.Client.Timeout = TimeSpan.FromSeconds(90);
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_other_context"));

        using var response = await app.PostAsync(stripeEvent);

        var answer = await response.Content.ReadAsStringAsync();
        var errors = string.Join(" | ", app.Logs.Lines.Where(e => e.Level >= LogLevel.Error).Select(e => (e.Exception?.InnerException ?? e.Exception)?.Message ?? e.Message));
        if (kind == DatabaseKind.Sqlite)
        {
            // The README's limit: on SQLite the handlers' transaction holds the one write lock, so another connection waits
            // for it and gives up at its timeout, on every delivery.
            response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
            errors.Should().Contain("database is locked");
            return;
        }

        response.StatusCode.Should().Be(HttpStatusCode.OK, "the handler's order is the purchase's fulfillment (answer '{0}'; errors: {1})", answer, errors);
        await using var db = database.CreateContext();
        (await db.Orders.CountAsync(o => o.SessionId == "cs_test_other_context")).Should().Be(1);
    }

    /// <summary>Writes the order through the app's orders context, not the one the library's stores use.</summary>
    private sealed class OtherContextOrderWriter(OrdersDbContext orders) : IFulfillmentHandler
    {
        public string Type => "license";

        public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
        {
            orders.Orders.Add(new Order { SessionId = context.SessionId, EventId = context.Event?.Id ?? "sync" });
            await orders.SaveChangesAsync(cancellationToken);
        }
    }
}

/// <summary>An app's second context, on the same database as <see cref="TestDbContext"/>: its orders only.</summary>
public sealed class OrdersDbContext(DbContextOptions<OrdersDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<Order>().ToTable("orders");
}
