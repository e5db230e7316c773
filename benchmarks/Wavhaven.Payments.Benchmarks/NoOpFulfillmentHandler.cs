using Wavhaven.Payments.Fulfillment;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>The handler of the benchmark's purchases: does nothing but count, so that a run can prove each delivery reached it.</summary>
internal sealed class NoOpFulfillmentHandler : IFulfillmentHandler
{
    private static long _fulfilled;

    public static long Fulfilled => Interlocked.Read(ref _fulfilled);

    public string Type => "license";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _fulfilled);
        return Task.CompletedTask;
    }
}
