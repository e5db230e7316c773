using System.Net.Http.Headers;
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

    private static readonly Uri Endpoint = new("https://api.stripe.com/v1/checkout/sessions");

    [GlobalSetup]
    public void Setup()
    {
        var handler = new AnsweringHandler(CheckoutScenario.OpenSession());
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(CheckoutScenario.Configure);
        services.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        _checkout = _services.CreateScope().ServiceProvider.GetRequiredService<ICheckoutService>();
        var plan = ((CheckoutService)_checkout).Validate(CheckoutScenario.Request);
        _body = StripeFormWriter.EncodeToUtf8(new CheckoutSessionParameters(CheckoutScenario.Request, plan, customerId: null));
        _raw = new HttpClient(handler, disposeHandler: false);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _raw?.Dispose();
        _services?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body (no network)")]
    public Task<byte[]> RawPost() => CheckoutScenario.RawPostAsync(_raw!, Endpoint, _body);

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
