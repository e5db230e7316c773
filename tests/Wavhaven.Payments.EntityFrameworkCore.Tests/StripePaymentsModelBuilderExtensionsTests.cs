using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.EntityFrameworkCore.Webhooks;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests;

/// <summary>
/// The library's tables live in the app's own model, beside the app's conventions and options: those must not change
/// what the stores need of the tables, nor stop the app's context from working.
/// </summary>
public class StripePaymentsModelBuilderExtensionsTests
{
    /// <summary>
    /// <c>Properties&lt;string&gt;().HaveMaxLength(n)</c> in <c>ConfigureConventions</c> is a common way for an app to bound its
    /// strings. It applies to every string property the model does not size itself: the library sizes all but
    /// <c>payload</c> and <c>completed_steps</c>, which the README documents as <c>text</c>. On PostgreSQL a Stripe event (a
    /// few KB) then does not fit, and every webhook is answered 500.
    /// </summary>
    [SkippableTheory]
    [InlineData(DatabaseKind.Sqlite)]
    [InlineData(DatabaseKind.PostgreSql)]
    public async Task AnAppsStringLengthConvention_LeavesThePayloadUnbounded_SoEventsAreStored(DatabaseKind kind)
    {
        await using var database = await TestDatabase.CreateAsync(kind);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<BoundedStringsContext>(database.Configure);
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<BoundedStringsContext>();
        await using var provider = services.BuildServiceProvider();
        await CreateTablesAsync<BoundedStringsContext>(provider, kind);
        var stripeEvent = StripeEvent.Parse(DurableApp.Body(TestEvents.Event("checkout.session.completed", StripeFixtures.Get("checkout.session"))));

        await using var scope = provider.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<BoundedStringsContext>();
        var payload = context.Model.FindEntityType(typeof(WebhookEventRecord))!.FindProperty(nameof(WebhookEventRecord.Payload))!;
        var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        var claim = async () => await store.TryClaimAsync(stripeEvent.Id, stripeEvent.Type, stripeEvent.RawJson);

        (await claim.Should().NotThrowAsync()).Which.Status.Should().Be(WebhookClaimStatus.Claimed);
        payload.GetColumnType().Should().Be(kind == DatabaseKind.PostgreSql ? "text" : "TEXT");
        // SQLite neither sizes nor enforces a length: on it, only the model tells the convention was kept off.
        (payload.GetMaxLength() ?? -1).Should().Be(-1, "the payload has no maximum length, whatever the app's conventions");
    }

    /// <summary>
    /// <c>UseLazyLoadingProxies()</c> (or <c>UseChangeTrackingProxies()</c>) on the app's context checks every entity type of
    /// the model, the library's two included: a sealed one fails the model's build, so the app's whole context (its own
    /// data, not only payments) stops working the moment it calls <c>AddStripePayments()</c>.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnAppsContextOnProxies_BuildsItsModel_AndTheStoresWork(bool changeTracking)
    {
        await using var database = await TestDatabase.CreateAsync(DatabaseKind.Sqlite);
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<ProxiesContext>(o =>
        {
            database.Configure(o);
            _ = changeTracking ? o.UseChangeTrackingProxies() : o.UseLazyLoadingProxies();
        });
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<ProxiesContext>();
        await using var provider = services.BuildServiceProvider();
        await CreateTablesAsync<ProxiesContext>(provider, DatabaseKind.Sqlite);

        await using var scope = provider.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<IWebhookEventStore>();
        (await store.TryClaimAsync("evt_proxies", "charge.refunded", Encoding.UTF8.GetBytes("{}"))).Status.Should().Be(WebhookClaimStatus.Claimed);
        await store.MarkProcessedAsync("evt_proxies");
        (await ((IWebhookEventQueue)store).FindAsync("evt_proxies"))!.State.Should().Be(WebhookEventState.Processed);
        var customers = scope.ServiceProvider.GetRequiredService<ICustomerStore>();
        await customers.SetCustomerIdAsync(new CustomerKey("user_1"), "cus_1");
        (await customers.GetCustomerIdAsync(new CustomerKey("user_1"))).Should().Be("cus_1");
    }

    /// <summary>Creates the model's tables as an app would (<c>EnsureCreated</c>); the test database already holds TestDbContext's.</summary>
    private static async Task CreateTablesAsync<TContext>(IServiceProvider provider, DatabaseKind kind)
        where TContext : DbContext
    {
        await using var scope = provider.CreateAsyncScope();
        var context = scope.ServiceProvider.GetRequiredService<TContext>();
        await context.Database.ExecuteSqlRawAsync(kind == DatabaseKind.PostgreSql
            ? "DROP TABLE wavhaven_webhook_events, wavhaven_customers, orders"
            : "DROP TABLE wavhaven_webhook_events; DROP TABLE wavhaven_customers; DROP TABLE orders;");
        await context.Database.ExecuteSqlRawAsync(context.Database.GenerateCreateScript());
    }
}

/// <summary>An app that bounds every string of its model by convention.</summary>
public sealed class BoundedStringsContext(DbContextOptions<BoundedStringsContext> options) : DbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.Properties<string>().HaveMaxLength(256);

    protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.AddStripePayments();
}

/// <summary>An app whose own entities are loaded lazily (or tracked) through EF Core's proxies.</summary>
public sealed class ProxiesContext(DbContextOptions<ProxiesContext> options) : DbContext(options)
{
    public DbSet<Author> Authors => Set<Author>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Author>().ToTable("authors");
        modelBuilder.Entity<Book>().ToTable("books");
        modelBuilder.AddStripePayments();
    }
}

public class Author
{
    public virtual int Id { get; set; }

    public virtual ICollection<Book> Books { get; set; } = [];
}

public class Book
{
    public virtual int Id { get; set; }

    public virtual Author? Author { get; set; }
}
