using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>
/// A real ASP.NET Core app on Kestrel (loopback, any free port) with the library registered, the webhook
/// mapped, the recording handlers, and Stripe's API replaced by a <see cref="StubStripeHandler"/>.
/// </summary>
public sealed class WebhookTestApp : IAsyncDisposable
{
    public const string Secret = "whsec_test_endpoint_secret";

    private WebhookTestApp(WebApplication app, Uri address, StubStripeHandler stripe, Recorder recorder, LogSink logs)
    {
        App = app;
        Client = new HttpClient { BaseAddress = address };
        Stripe = stripe;
        Recorder = recorder;
        Logs = logs;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public StubStripeHandler Stripe { get; }

    public Recorder Recorder { get; }

    public LogSink Logs { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<WebhookTestApp> StartAsync(
        Action<StripePaymentsOptions>? options = null,
        Action<IStripePaymentsBuilder>? payments = null,
        string pattern = "/api/webhooks/stripe",
        Action<IServiceCollection>? services = null,
        Action<WebApplication>? map = null,
        LogLevel logLevel = LogLevel.Debug,
        Action<WebApplication>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        var logs = new LogSink();
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(logLevel);

        var stripe = new StubStripeHandler();
        var recorder = new Recorder();
        builder.Services.AddSingleton(recorder);
        var registration = builder.Services.AddStripePayments(o =>
        {
            TestServices.DefaultOptions(o);
            o.WebhookSecrets.Add(Secret);
            options?.Invoke(o);
        });
        if (payments is null)
        {
            registration.AddFulfillmentHandler<LicenseHandler>().AddSubscriptionHandler<SubscriptionRecorder>();
        }
        else
        {
            payments(registration);
        }

        builder.Services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => stripe);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        configure?.Invoke(app); // middleware that runs before the endpoint
        app.MapStripeWebhook(pattern);
        map?.Invoke(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new WebhookTestApp(app, new Uri(address), stripe, recorder, logs);
    }

    public Task<HttpResponseMessage> PostAsync(JsonObject stripeEvent, string secret = Secret, DateTimeOffset? signedAt = null) =>
        PostAsync(Encoding.UTF8.GetBytes(stripeEvent.ToJsonString()), secret, signedAt);

    public Task<HttpResponseMessage> PostAsync(byte[] body, string secret = Secret, DateTimeOffset? signedAt = null) =>
        PostRawAsync(body, StripeWebhookSignature.CreateHeader(body, secret, signedAt ?? DateTimeOffset.UtcNow));

    public async Task<HttpResponseMessage> PostRawAsync(byte[] body, string? signatureHeader, string path = "/api/webhooks/stripe")
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        if (signatureHeader is not null)
        {
            request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, signatureHeader);
        }

        return await Client.SendAsync(request);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
