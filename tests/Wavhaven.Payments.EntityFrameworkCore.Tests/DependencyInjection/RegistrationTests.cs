using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.EntityFrameworkCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.DependencyInjection;

public class RegistrationTests
{
    [Fact]
    public void UseEntityFrameworkStores_ReplacesTheInMemoryStores_WithScopedOnes()
    {
        var services = new ServiceCollection();
        services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<TestDbContext>();

        services.Should().ContainSingle(d => d.ServiceType == typeof(IWebhookEventStore)).Which.Lifetime.Should().Be(ServiceLifetime.Scoped);
        services.Should().ContainSingle(d => d.ServiceType == typeof(ICustomerStore)).Which.Lifetime.Should().Be(ServiceLifetime.Scoped);
    }

    [Fact]
    public void Guards_RejectNulls()
    {
        var useStores = () => ((IStripePaymentsBuilder)null!).UseEntityFrameworkStores<TestDbContext>();
        var addTables = () => ((ModelBuilder)null!).AddStripePayments();

        useStores.Should().Throw<ArgumentNullException>().WithParameterName("builder");
        addTables.Should().Throw<ArgumentNullException>().WithParameterName("modelBuilder");
    }

    [Fact]
    public async Task QueuedProcessing_WithTheInMemoryStore_FailsTheHostsStart()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Services.AddStripePayments(o =>
        {
            TestServices.DefaultOptions(o);
            o.WebhookProcessing = WebhookProcessingMode.Queued;
        });
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage("Stripe:WebhookProcessing is Queued, but the registered event store (InMemoryWebhookEventStore) cannot queue events durably*UseEntityFrameworkStores<TContext>()*");
    }

    [Fact]
    public async Task ContextWithoutTheTables_FailsTheHostsStart_SayingWhatToCall()
    {
        await using var connection = new SqliteConnection("Data Source=:memory:");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Services.AddDbContext<ContextWithoutTables>(o => o.UseSqlite(connection));
        builder.Services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<ContextWithoutTables>();
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>())
            .WithMessage("*ContextWithoutTables has no Wavhaven.Payments tables. Call modelBuilder.AddStripePayments() in its OnModelCreating*");
    }

    [Fact]
    public async Task UnregisteredContext_FailsTheHostsStart_SayingWhatToCall()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Testing" });
        builder.Services.AddStripePayments(TestServices.DefaultOptions).UseEntityFrameworkStores<TestDbContext>();
        using var host = builder.Build();

        var start = () => host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).WithMessage("*AddDbContext<TestDbContext>*");
    }

    [Fact]
    public void QueueOptions_AreBoundFromConfiguration_AndTheirBackoffIsCapped()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Stripe:SecretKey"] = TestServices.SecretKey,
                ["Stripe:WebhookProcessing"] = "Queued",
                ["Stripe:WebhookClaimLease"] = "00:02:00",
                ["Stripe:WebhookQueue:MaxAttempts"] = "5",
                ["Stripe:WebhookQueue:RetryDelay"] = "00:00:10",
                ["Stripe:WebhookQueue:MaxRetryDelay"] = "00:01:00",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddStripePayments(configuration.GetSection("Stripe"));
        using var provider = services.BuildServiceProvider();

        var options = provider.GetRequiredService<IOptions<StripePaymentsOptions>>().Value;

        options.WebhookProcessing.Should().Be(WebhookProcessingMode.Queued);
        options.WebhookClaimLease.Should().Be(TimeSpan.FromMinutes(2));
        options.WebhookQueue.MaxAttempts.Should().Be(5);
        Enumerable.Range(1, 5).Select(options.WebhookQueue.GetRetryDelay).Should().Equal(
            TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(40), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void QueueOptionsOutOfRange_AreRefused_NamingTheKey()
    {
        var services = new ServiceCollection();
        services.AddStripePayments(o =>
        {
            TestServices.DefaultOptions(o);
            o.WebhookQueue.MaxAttempts = 0;
        });
        using var provider = services.BuildServiceProvider();

        var read = () => provider.GetRequiredService<IOptions<StripePaymentsOptions>>().Value;

        // The generated validator names the member by its path (its custom ErrorMessage texts do not reach the
        // exception today, for any of the library's [Range] options).
        read.Should().Throw<OptionsValidationException>().WithMessage("*WebhookQueue*MaxAttempts must be between 1 and 100*");
    }
}
