using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The library's own cost of a checkout, without the network: the same two cases as <see cref="CheckoutBenchmarks"/>,
/// over an in-process handler that answers at once with the same 3 KB session. On a loaded 2-core machine the loopback
/// times swing widely; this isolates what the library adds (validation, the form, the resilience pipeline, telemetry,
/// reading the answer into its model) from what the network and the server take.
/// </summary>
public class CheckoutOverheadBenchmarks
{
    private ServiceProvider? _services;
    private ICheckoutService? _checkout;
    private HttpClient? _raw;
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup()
    {
        var session = JsonNode.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "payloads", "checkout.session.completed.json")))!["data"]!["object"]!.AsObject();
        session["status"] = "open";
        session["payment_status"] = "unpaid";
        var handler = new AnsweringHandler(Encoding.UTF8.GetBytes(session.ToJsonString()));
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(CheckoutScenario.Configure);
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _checkout = _services.CreateScope().ServiceProvider.GetRequiredService<ICheckoutService>();
        var plan = ((CheckoutService)_checkout).Validate(CheckoutScenario.Request);
        _body = CheckoutService.BuildForm(CheckoutScenario.Request, plan, customerId: null).EncodeToUtf8();
        _raw = new HttpClient(handler, disposeHandler: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw?.Dispose();
        _services?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body (no network)")]
    public async Task<byte[]> RawPost()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://api.stripe.com/v1/checkout/sessions") { Content = new ByteArrayContent(_body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", CheckoutScenario.SecretKey);
        request.Headers.TryAddWithoutValidation("Stripe-Version", StripeApiVersion.Current);
        request.Headers.TryAddWithoutValidation("Idempotency-Key", "wavhaven-checkout-" + Guid.NewGuid().ToString("N"));
        using var response = await _raw!.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Benchmark(Description = "ICheckoutService.CreateCheckoutAsync (no network)")]
    public Task<CheckoutResult> Library() => _checkout!.CreateCheckoutAsync(CheckoutScenario.Request);

    private sealed class AnsweringHandler(byte[] answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new ByteArrayContent(answer) };
            response.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            return Task.FromResult(response);
        }
    }
}
