using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

/// <summary>
/// One instance of an app on Kestrel (loopback, any free port) with the library on the EF Core stores of a
/// <see cref="TestDatabase"/>, the webhook mapped, the probe's handlers, and Stripe replaced by a stub. Several
/// instances on one database behave as an app behind a load balancer.
/// </summary>
public sealed class DurableApp : IAsyncDisposable
{
    public const string Secret = "whsec_test_durable_secret";

    private DurableApp(WebApplication app, Uri address, Probe probe)
    {
        App = app;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(90) };
        Probe = probe;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public Probe Probe { get; }

    public IServiceProvider Services => App.Services;

    /// <summary>Settings fit for tests: quick polls and retries, three attempts.</summary>
    public static void QueuedForTests(StripePaymentsOptions options)
    {
        options.WebhookProcessing = WebhookProcessingMode.Queued;
        options.WebhookQueue.PollInterval = TimeSpan.FromMilliseconds(50);
        options.WebhookQueue.RetryDelay = TimeSpan.FromMilliseconds(50);
        options.WebhookQueue.MaxRetryDelay = TimeSpan.FromMilliseconds(200);
        options.WebhookQueue.MaxAttempts = 3;
    }

    public static async Task<DurableApp> StartAsync(TestDatabase database, Probe probe, Action<StripePaymentsOptions>? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel(kestrel => kestrel.Limits.MaxConcurrentConnections = null).UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders().SetMinimumLevel(LogLevel.Warning);
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(10));

        builder.Services.AddSingleton(probe);
        builder.Services.AddDbContext<TestDbContext>(database.Configure);
        builder.Services.AddStripePayments(o =>
            {
                TestServices.DefaultOptions(o);
                o.WebhookSecrets.Add(Secret);
                options?.Invoke(o);
            })
            .UseEntityFrameworkStores<TestDbContext>()
            .AddFulfillmentHandler<ProbeFulfillmentHandler>()
            .AddEventHandler<ProbeEventHandler>();
        builder.Services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => new StubStripeHandler());

        var app = builder.Build();
        app.MapStripeWebhook();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DurableApp(app, new Uri(address), probe);
    }

    public static byte[] Body(JsonObject stripeEvent) => Encoding.UTF8.GetBytes(stripeEvent.ToJsonString());

    public Task<HttpResponseMessage> PostAsync(JsonObject stripeEvent) => PostAsync(Body(stripeEvent));

    public async Task<HttpResponseMessage> PostAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/stripe") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, StripeWebhookSignature.CreateHeader(body, Secret, DateTimeOffset.UtcNow));
        return await Client.SendAsync(request);
    }

    public async Task<WebhookEventInfo?> GetEventAsync(string eventId)
    {
        await using var scope = Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IWebhookEventAdmin>().GetAsync(eventId);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
