using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Checkout;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// Creating the 10-line checkout through <see cref="ICheckoutService"/> against a raw <see cref="HttpClient"/> POST of
/// the same body, with the same headers, to the same loopback Kestrel server standing in for Stripe (it answers every
/// POST with the same 3 KB Checkout session). The difference is the library's overhead: validation, the form, the
/// resilience pipeline, telemetry, and reading the answer into its model.
/// </summary>
public class CheckoutBenchmarks
{
    private WebApplication? _server;
    private ServiceProvider? _services;
    private IServiceScope? _scope;
    private ICheckoutService? _checkout;
    private HttpClient? _raw;
    private Uri? _endpoint;
    private byte[] _body = [];

    [GlobalSetup]
    public async Task Setup()
    {
        var session = JsonNode.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "payloads", "checkout.session.completed.json")))!["data"]!["object"]!.AsObject();
        session["status"] = "open";
        session["payment_status"] = "unpaid";
        var answer = Encoding.UTF8.GetBytes(session.ToJsonString());
        byte[]? captured = null;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _server = builder.Build();
        _server.MapPost("/v1/checkout/sessions", async context =>
        {
            if (captured is null)
            {
                using var copy = new MemoryStream();
                await context.Request.Body.CopyToAsync(copy);
                captured = copy.ToArray();
            }
            else
            {
                // Drain the body as a real server would, without keeping it.
                while (await context.Request.Body.ReadAsync(new byte[4096]) > 0)
                {
                }
            }

            context.Response.ContentType = "application/json";
            context.Response.ContentLength = answer.Length;
            await context.Response.Body.WriteAsync(answer);
        });
        await _server.StartAsync();
        var address = new Uri(_server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

        _services = CheckoutScenario.Services(address);
        _scope = _services.CreateScope();
        _checkout = _scope.ServiceProvider.GetRequiredService<ICheckoutService>();
        await _checkout.CreateCheckoutAsync(CheckoutScenario.Request);
        _body = captured ?? throw new InvalidOperationException("The library's request never reached the server.");

        _raw = new HttpClient();
        _endpoint = new Uri(address, "/v1/checkout/sessions");
        if ((await RawPost()).Length != answer.Length)
        {
            throw new InvalidOperationException("The raw POST did not read the whole answer.");
        }
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        _raw?.Dispose();
        _scope?.Dispose();
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.StopAsync();
            await _server.DisposeAsync();
        }
    }

    /// <summary>What an app could write by hand: the same pre-encoded body and headers, the answer read as bytes.</summary>
    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body")]
    public async Task<byte[]> RawPost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, _endpoint) { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CheckoutScenario.SecretKey);
        request.Headers.TryAddWithoutValidation("Stripe-Version", Stripe.StripeApiVersion.Current);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "wavhaven-checkout-" + Guid.NewGuid().ToString("N"));
        using var response = await _raw!.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Benchmark(Description = "ICheckoutService.CreateCheckoutAsync")]
    public Task<CheckoutResult> Library() => _checkout!.CreateCheckoutAsync(CheckoutScenario.Request);
}
