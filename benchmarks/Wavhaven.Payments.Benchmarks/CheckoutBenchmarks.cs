using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
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
    private LoopbackStripe? _stripe;
    private ServiceProvider? _services;
    private IServiceScope? _scope;
    private ICheckoutService? _checkout;
    private HttpClient? _raw;
    private byte[] _body = [];

    [GlobalSetup]
    public async Task Setup()
    {
        _stripe = await LoopbackStripe.StartAsync();
        _services = CheckoutScenario.Services(_stripe.Address);
        _scope = _services.CreateScope();
        _checkout = _scope.ServiceProvider.GetRequiredService<ICheckoutService>();
        await _checkout.CreateCheckoutAsync(CheckoutScenario.Request);
        _body = _stripe.FirstBody ?? throw new InvalidOperationException("The library's request never reached the server.");

        _raw = new HttpClient();
        if ((await RawPost()).Length != _stripe.Answer.Length)
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

        if (_stripe is not null)
        {
            await _stripe.DisposeAsync();
        }
    }

    /// <summary>What an app could write by hand: the same pre-encoded body and headers, the answer read as bytes.</summary>
    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body")]
    public Task<byte[]> RawPost() => LoopbackStripe.RawPostAsync(_raw!, _stripe!.Endpoint, _body);

    [Benchmark(Description = "ICheckoutService.CreateCheckoutAsync")]
    public Task<CheckoutResult> Library() => _checkout!.CreateCheckoutAsync(CheckoutScenario.Request);
}
