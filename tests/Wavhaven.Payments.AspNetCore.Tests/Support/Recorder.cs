using System.Collections.Concurrent;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Support;

/// <summary>What the test handlers saw, and how they should behave. A singleton shared by the scoped handlers.</summary>
public sealed class Recorder
{
    public ConcurrentQueue<FulfillmentContext> Fulfilled { get; } = new();

    public ConcurrentQueue<(string Hook, FulfillmentContext Context)> Hooks { get; } = new();

    public ConcurrentQueue<SubscriptionChange> Changes { get; } = new();

    public ConcurrentQueue<StripeEvent> Events { get; } = new();

    /// <summary>How many more times the fulfillment handler throws before it succeeds.</summary>
    public int FulfillmentFailuresLeft;

    /// <summary>How many more times the event handler throws before it succeeds.</summary>
    public int EventHandlerFailuresLeft;

    /// <summary>How many <see cref="GiftCardHandler"/>s were created.</summary>
    public int GiftCardHandlersCreated;

    /// <summary>The <see cref="InstanceRecordingHandler"/> instances that fulfilled purchases, in order.</summary>
    public ConcurrentQueue<object> HandlerInstances { get; } = new();

    public TimeSpan FulfillmentDelay { get; set; }

    /// <summary>Completes when a fulfillment with a <see cref="FulfillmentDelay"/> starts waiting: a test can act mid-handler without a fixed delay.</summary>
    public TaskCompletionSource FulfillmentWaiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public IReadOnlyList<string>? LineItemNames { get; set; }
}

public sealed class LicenseHandler(Recorder recorder) : IFulfillmentHandler
{
    public string Type => "license";

    public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        if (recorder.FulfillmentDelay > TimeSpan.Zero)
        {
            recorder.FulfillmentWaiting.TrySetResult();
            await Task.Delay(recorder.FulfillmentDelay, cancellationToken);
        }

        if (Interlocked.Decrement(ref recorder.FulfillmentFailuresLeft) >= 0)
        {
            throw new InvalidOperationException("The licence database is down.");
        }

        recorder.Fulfilled.Enqueue(context);
    }

    public Task OnPaymentFailedAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        recorder.Hooks.Enqueue(("payment_failed", context));
        return Task.CompletedTask;
    }

    public Task OnExpiredAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        recorder.Hooks.Enqueue(("expired", context));
        return Task.CompletedTask;
    }
}

public sealed class SubscriptionRecorder(Recorder recorder) : ISubscriptionHandler
{
    public Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
    {
        recorder.Changes.Enqueue(change);
        return Task.CompletedTask;
    }
}

public sealed class EventRecorder(Recorder recorder) : IStripeEventHandler
{
    public Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        if (Interlocked.Decrement(ref recorder.EventHandlerFailuresLeft) >= 0)
        {
            throw new InvalidOperationException("The audit log is down.");
        }

        recorder.Events.Enqueue(stripeEvent);
        return Task.CompletedTask;
    }
}

/// <summary>A second fulfillment handler, of another type, that counts its creations.</summary>
public sealed class GiftCardHandler : IFulfillmentHandler
{
    private readonly Recorder _recorder;

    public GiftCardHandler(Recorder recorder)
    {
        _recorder = recorder;
        Interlocked.Increment(ref recorder.GiftCardHandlersCreated);
    }

    public string Type => "gift-card";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        _recorder.Hooks.Enqueue(("gift-card", context));
        return Task.CompletedTask;
    }
}

/// <summary>A handler that records which instance of it ran.</summary>
public sealed class InstanceRecordingHandler(Recorder recorder) : IFulfillmentHandler
{
    public string Type => "instances";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        recorder.HandlerInstances.Enqueue(this);
        return Task.CompletedTask;
    }
}
