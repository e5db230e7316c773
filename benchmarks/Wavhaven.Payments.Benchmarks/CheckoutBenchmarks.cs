using BenchmarkDotNet.Attributes;
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
    private LoopbackCheckout? _pair;

    [GlobalSetup]
    public async Task Setup() => _pair = await LoopbackCheckout.StartAsync();

    [GlobalCleanup]
    public async Task Cleanup()
    {
        if (_pair is not null)
        {
            await _pair.DisposeAsync();
        }
    }

    /// <summary>What an app could write by hand: the same pre-encoded body and headers, the answer read as bytes.</summary>
    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body")]
    public Task<byte[]> RawPost() => _pair!.RawPostAsync();

    [Benchmark(Description = "ICheckoutService.CreateCheckoutAsync")]
    public Task<CheckoutResult> Library() => _pair!.CheckoutAsync();
}
