using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// Writing the parameters of the 10-line checkout (64 pairs, nested keys, metadata, characters to escape) into the
/// body the client sends, from the checked request, against the BCL's <see cref="FormUrlEncodedContent"/> given the same
/// pairs already flattened.
/// </summary>
/// <remarks>
/// The reference is not byte-identical (it writes spaces as <c>+</c> and escapes brackets), and it starts from flat
/// pairs, which the library has to build from nested parameters: it is the cost of the simplest encoder at hand.
/// </remarks>
public class FormEncodingBenchmarks
{
    private CheckoutSessionParameters? _parameters;
    private KeyValuePair<string, string>[] _pairs = [];

    [GlobalSetup]
    public void Setup()
    {
        using var services = CheckoutScenario.Services();
        using var scope = services.CreateScope();
        var checkout = (CheckoutService)scope.ServiceProvider.GetRequiredService<ICheckoutService>();
        _parameters = new CheckoutSessionParameters(CheckoutScenario.Request, checkout.Validate(CheckoutScenario.Request), customerId: null);
        _pairs = [.. StripeFormWriter.Encode(_parameters).Split('&').Select(pair => pair.Split('=')).Select(kv => KeyValuePair.Create(Uri.UnescapeDataString(kv[0]), Uri.UnescapeDataString(kv[1])))];
    }

    [Benchmark(Baseline = true, Description = "FormUrlEncodedContent(flat pairs)")]
    public HttpContent Bcl() => new FormUrlEncodedContent(_pairs);

    [Benchmark(Description = "CheckoutSessionParameters written by StripeFormWriter (10-line checkout)")]
    public byte[] Library() => StripeFormWriter.EncodeToUtf8(_parameters!);
}
