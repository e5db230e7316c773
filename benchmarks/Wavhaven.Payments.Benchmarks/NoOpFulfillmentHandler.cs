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
        Count();
        return Task.CompletedTask;
    }

    internal static void Count() => Interlocked.Increment(ref _fulfilled);
}

/// <summary>
/// A handler that reads what a real one reads before it touches its database (the app's order id, the buyer's
/// email and user id): it makes the library deserialize the Checkout session, which a no-op handler never asks for.
/// </summary>
internal sealed class SessionReadingFulfillmentHandler : IFulfillmentHandler
{
    public string Type => "license";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        if (context.Metadata["order_id"].Length == 0 || context.Email is null || context.UserId is null)
        {
            throw new InvalidOperationException("The benchmark's session lacks what the handler reads.");
        }

        NoOpFulfillmentHandler.Count();
        return Task.CompletedTask;
    }
}
