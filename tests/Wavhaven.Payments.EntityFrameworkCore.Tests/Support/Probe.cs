using System.Collections.Concurrent;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.EntityFrameworkCore.Tests.Support;

/// <summary>
/// What the test handlers did, and how they should behave: a singleton that one or several app instances
/// share. Counts are of runs that returned; failed or interrupted runs count only as attempts.
/// </summary>
public sealed class Probe
{
    /// <summary>Successful runs of the event handler, by event id.</summary>
    public ConcurrentDictionary<string, int> EventRuns { get; } = new();

    /// <summary>Every start of the event handler, by event id.</summary>
    public ConcurrentDictionary<string, int> EventAttempts { get; } = new();

    /// <summary>Successful runs of the fulfillment handler, by session id.</summary>
    public ConcurrentDictionary<string, int> Fulfillments { get; } = new();

    /// <summary>How many more times the event handler throws for an event id.</summary>
    public ConcurrentDictionary<string, int> FailuresLeft { get; } = new();

    /// <summary>Event ids whose handler always throws.</summary>
    public ConcurrentDictionary<string, bool> AlwaysFail { get; } = new();

    /// <summary>How long the event handler takes.</summary>
    public TimeSpan EventDelay { get; set; }

    /// <summary>Whether the event handler waits until it is cancelled (a host that stops mid-event).</summary>
    public bool HangUntilCancelled { get; set; }

    /// <summary>How long the event handler takes to give up once its token is cancelled (closing what it opened).</summary>
    public TimeSpan CancellationUnwind { get; set; }

    /// <summary>Whether the fulfillment handler writes an order through the app's DbContext.</summary>
    public bool WriteOrders { get; set; }

    /// <summary>Runs in the fulfillment handler after it saved its order, on the handler's own DbContext.</summary>
    public Func<TestDbContext, Order, Task>? AfterOrderSaved { get; set; }

    /// <summary>Runs inside the event handler, after the fulfillment's writes (to look at the database from outside).</summary>
    public Func<StripeEvent, Task>? DuringEventHandler { get; set; }

    /// <summary>Completes when the event handler starts for the first time.</summary>
    public TaskCompletionSource<string> EventHandlerStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Increment(ConcurrentDictionary<string, int> counts, string key) => counts.AddOrUpdate(key, 1, static (_, count) => count + 1);

    public static async Task WaitUntilAsync(Func<bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting until " + because);
            }

            await Task.Delay(20);
        }
    }

    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {because}; last seen: {value}");
            }

            await Task.Delay(25);
        }
    }
}

public sealed class ProbeEventHandler(Probe probe) : IStripeEventHandler
{
    public async Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        Probe.Increment(probe.EventAttempts, stripeEvent.Id);
        probe.EventHandlerStarted.TrySetResult(stripeEvent.Id);
        if (probe.HangUntilCancelled)
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            }
            catch (OperationCanceledException) when (probe.CancellationUnwind > TimeSpan.Zero)
            {
                await Task.Delay(probe.CancellationUnwind, CancellationToken.None);
                throw;
            }
        }

        if (probe.EventDelay > TimeSpan.Zero)
        {
            await Task.Delay(probe.EventDelay, cancellationToken);
        }

        if (probe.DuringEventHandler is { } during)
        {
            await during(stripeEvent);
        }

        if (probe.AlwaysFail.ContainsKey(stripeEvent.Id))
        {
            throw new InvalidOperationException("The audit log is down for good.");
        }

        if (probe.FailuresLeft.TryGetValue(stripeEvent.Id, out var left) && left > 0 && probe.FailuresLeft.TryUpdate(stripeEvent.Id, left - 1, left))
        {
            throw new InvalidOperationException($"The audit log is down ({left} failures to go).");
        }

        Probe.Increment(probe.EventRuns, stripeEvent.Id);
    }
}

public sealed class ProbeFulfillmentHandler(Probe probe, TestDbContext db) : IFulfillmentHandler
{
    public string Type => "license";

    public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        if (probe.WriteOrders)
        {
            var order = new Order { SessionId = context.SessionId, EventId = context.Event!.Id };
            db.Orders.Add(order);
            await db.SaveChangesAsync(cancellationToken);
            if (probe.AfterOrderSaved is { } after)
            {
                await after(db, order);
            }
        }

        Probe.Increment(probe.Fulfillments, context.SessionId);
    }
}
