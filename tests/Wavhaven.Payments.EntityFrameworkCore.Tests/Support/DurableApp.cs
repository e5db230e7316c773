using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

/// <summary>
/// One instance of the add-on's <see cref="WebhookTestApp"/> (Kestrel on loopback, real signatures, Stripe stubbed)
/// with the library on the EF Core stores of a <see cref="TestDatabase"/> and the probe's handlers. Several
/// instances on one database behave as an app behind a load balancer.
/// </summary>
public sealed class DurableApp : IAsyncDisposable
{
    private readonly WebhookTestApp _app;

    private DurableApp(WebhookTestApp app, Probe probe)
    {
        _app = app;
        Probe = probe;
    }

    public HttpClient Client => _app.Client;

    public Probe Probe { get; }

    public Wavhaven.Payments.Tests.Support.LogSink Logs => _app.Logs;

    public IServiceProvider Services => _app.Services;

    /// <summary>Settings fit for tests: quick polls and retries, three attempts.</summary>
    public static void QueuedForTests(StripePaymentsOptions options)
    {
        options.WebhookProcessing = WebhookProcessingMode.Queued;
        options.WebhookQueue.PollInterval = TimeSpan.FromMilliseconds(50);
        options.WebhookQueue.RetryDelay = TimeSpan.FromMilliseconds(50);
        options.WebhookQueue.MaxRetryDelay = TimeSpan.FromMilliseconds(200);
        options.WebhookQueue.MaxAttempts = 3;
    }

    /// <summary>The add-on's test app, on the EF Core stores of <paramref name="database"/> and the probe's handlers.</summary>
    public static async Task<DurableApp> StartAsync(
        TestDatabase database,
        Probe probe,
        Action<StripePaymentsOptions>? options = null,
        LogLevel logLevel = LogLevel.Warning,
        Action<IStripePaymentsBuilder>? payments = null,
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null)
    {
        var app = await WebhookTestApp.StartAsync(
            options,
            payments: builder =>
            {
                builder
                    .UseEntityFrameworkStores<TestDbContext>()
                    .AddFulfillmentHandler<ProbeFulfillmentHandler>()
                    .AddEventHandler<ProbeEventHandler>();
                payments?.Invoke(builder);
            },
            services: collection =>
            {
                collection.AddSingleton(probe);
                collection.AddDbContext<TestDbContext>(database.Configure);
                collection.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));
                services?.Invoke(collection);
            },
            logLevel: logLevel,
            map: map);
        app.Client.Timeout = TimeSpan.FromSeconds(90);
        return new DurableApp(app, probe);
    }

    public static byte[] Body(JsonObject stripeEvent) => Encoding.UTF8.GetBytes(stripeEvent.ToJsonString());

    public Task<HttpResponseMessage> PostAsync(JsonObject stripeEvent) => _app.PostAsync(stripeEvent);

    public Task<HttpResponseMessage> PostAsync(byte[] body) => _app.PostAsync(body);

    public async Task<WebhookEventInfo?> GetEventAsync(string eventId)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>().GetAsync(eventId);
    }

    /// <summary>Stops the host (as a deploy's SIGTERM does) without disposing it.</summary>
    public Task StopAsync() => _app.App.StopAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
