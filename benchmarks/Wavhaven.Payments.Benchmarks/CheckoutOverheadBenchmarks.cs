using BenchmarkDotNet.Attributes;
using Wavhaven.Payments.Checkout;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The library's own cost of a checkout, without the network: the same two cases as <see cref="CheckoutBenchmarks"/>,
/// over an in-process handler that answers at once with the same 3 KB session. On a loaded 2-core machine the loopback
/// times swing widely; this isolates what the library adds (validation, the form, the resilience pipeline, telemetry,
/// reading the answer into its model) from what the network and the server take.
/// </summary>
public class CheckoutOverheadBenchmarks
{
    private InProcessCheckout? _pair;

    [GlobalSetup]
    public void Setup() => _pair = new InProcessCheckout();

    [GlobalCleanup]
    public void Cleanup() => _pair?.Dispose();

    [Benchmark(Baseline = true, Description = "raw HttpClient POST, same body (no network)")]
    public Task<byte[]> RawPost() => _pair!.RawPostAsync();

    [Benchmark(Description = "ICheckoutService.CreateCheckoutAsync (no network)")]
    public Task<CheckoutResult> Library() => _pair!.CheckoutAsync();
}
