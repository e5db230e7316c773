using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Subscriptions;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// Routes a claimed event to its handlers, as a list of steps: the fulfillment of a paid checkout, each
/// subscription handler, each event handler. A step that succeeded is recorded when others follow it, so a
/// redelivery after a later step failed runs only what has not run.
/// </summary>
internal sealed partial class WebhookDispatcher(
    FulfillmentRunner fulfillment,
    SubscriptionChangeFactory subscriptionChanges,
    TimeProvider timeProvider,
    IOptions<StripePaymentsOptions> options,
    ILogger<WebhookDispatcher> logger)
{
    private readonly bool _live = options.Value.Mode == StripeMode.Live;

    // The customers (or subscriptions without one) whose subscription events this instance is handling: one at a time each.
    private readonly KeyedLock _turns = new();

    /// <summary>Gets how many customers or subscriptions have an event handled, or waiting to be, in this instance now.</summary>
    internal int LockedKeys => _turns.Count;

    /// <summary>
    /// Gets how many of this instance's deliveries hold the lock of <paramref name="key"/> (<c>customer:cus_…</c>, or
    /// <c>subscription:sub_…</c> for one without a customer) or wait for it now.
    /// </summary>
    internal int LockUsers(string key) => _turns.UsersOf(key);

    /// <summary>
    /// Runs the event's steps and marks the event processed. When the store is transactional, both happen in
    /// one of its transactions, so that handlers writing to the same database commit with the mark or not at all.
    /// </summary>
    /// <remarks>
    /// An event for subscription handlers runs under its customer's lock (its subscription's, without a customer; see
    /// <see cref="SubscriptionChangeFactory.TurnKeyOf"/>), taken before the subscription is fetched and held until the
    /// handlers' work is committed: in-process, and in the store's transaction too when the store can lock
    /// (<see cref="ILockingWebhookEventStore"/>) for the instances that share it. So two events of one customer's
    /// subscriptions handled at once run one after the other, and the later one fetches after the earlier one's writes:
    /// the state saved last is the latest. One event takes one lock, and only these events take it, so no two deliveries
    /// wait for each other's locks in opposite orders.
    /// Without <c>waitForSubscription</c> (the queue worker), an event whose customer this instance is handling another
    /// event of does not wait for it: <see cref="RetryLaterException"/>, so that a burst of one customer's events cannot
    /// take every worker slot to wait in while other customers' events are due.
    /// </remarks>
    /// <returns>Whether any handler was interested.</returns>
    /// <exception cref="RetryLaterException">The purchase is being fulfilled elsewhere right now, or the subscription is busy.</exception>
    public Task<bool> RunAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, bool waitForSubscription, CancellationToken cancellationToken)
    {
        var handlers = SubscriptionHandlers(services, stripeEvent, out var reason);
        if (handlers.Length > 0 && TurnKeyOf(stripeEvent, reason) is { } key)
        {
            return RunLockedAsync(services, stripeEvent, claim, store, handlers, reason, key, waitForSubscription, cancellationToken);
        }

        return RunUnlockedAsync(services, stripeEvent, claim, store, handlers, reason, cancellationToken);
    }

    /// <summary>The steps and the mark, in the store's transaction when it has them.</summary>
    private Task<bool> RunUnlockedAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, ISubscriptionHandler[] handlers, SubscriptionChangeReason reason, CancellationToken cancellationToken) =>
        store is ITransactionalWebhookEventStore transactional
            ? RunInTransactionAsync(transactional, services, stripeEvent, claim, handlers, reason, cancellationToken)
            : DispatchAndMarkProcessedAsync(services, stripeEvent, claim, store, handlers, reason, cancellationToken);

    // A method of its own: the lambda's closure, were it in RunAsync, would be allocated on every call, whatever the store.
    private Task<bool> RunInTransactionAsync(ITransactionalWebhookEventStore store, IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, ISubscriptionHandler[] handlers, SubscriptionChangeReason reason, CancellationToken cancellationToken) =>
        store.ExecuteInTransactionAsync(ct => DispatchAndMarkProcessedAsync(services, stripeEvent, claim, store, handlers, reason, ct), cancellationToken);

    private async Task<bool> RunLockedAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, ISubscriptionHandler[] handlers, SubscriptionChangeReason reason, string key, bool wait, CancellationToken cancellationToken)
    {
        // In-process first, outside the transaction: a delivery waiting here holds no connection and no database lock.
        KeyedLock.Holder held;
        if (wait)
        {
            held = await _turns.AcquireAsync(key, cancellationToken).ConfigureAwait(false);
        }
        else if (!_turns.TryAcquire(key, out held))
        {
            throw new RetryLaterException($"Another subscription event of {key} is being handled by this instance right now.");
        }

        using var _ = held;
        return store is ILockingWebhookEventStore locking
            ? await locking.ExecuteInTransactionAsync(
                async ct =>
                {
                    await locking.LockAsync(key, ct).ConfigureAwait(false);
                    return await DispatchAndMarkProcessedAsync(services, stripeEvent, claim, store, handlers, reason, ct).ConfigureAwait(false);
                },
                cancellationToken).ConfigureAwait(false)
            : await RunUnlockedAsync(services, stripeEvent, claim, store, handlers, reason, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The key the event's subscription handlers take turns under, or <see langword="null"/> for an invoice that bills no
    /// subscription, and for an object that cannot be read: its subscription step fails reading it, in the handlers'
    /// telemetry as before.
    /// </summary>
    private static string? TurnKeyOf(StripeEvent stripeEvent, SubscriptionChangeReason reason)
    {
        try
        {
            return SubscriptionChangeFactory.TurnKeyOf(stripeEvent, reason);
        }
        catch (Exception exception) when (exception is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>
    /// The subscription handlers that the event is for (none for another event, or one of the other mode's, which no
    /// fulfillment or subscription handler sees), and the change's reason.
    /// </summary>
    private ISubscriptionHandler[] SubscriptionHandlers(IServiceProvider services, StripeEvent stripeEvent, out SubscriptionChangeReason reason) =>
        SubscriptionChangeFactory.TryGetReason(stripeEvent.Type, out reason) && stripeEvent.Livemode == _live
            ? [.. services.GetServices<ISubscriptionHandler>()]
            : [];

    /// <summary>Runs the event's steps, then marks the event processed; returns whether any handler was interested.</summary>
    /// <exception cref="RetryLaterException">The purchase is being fulfilled elsewhere right now.</exception>
    private async Task<bool> DispatchAndMarkProcessedAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, ISubscriptionHandler[] subscriptionHandlers, SubscriptionChangeReason reason, CancellationToken cancellationToken)
    {
        var steps = default(Steps);
        // A live Connect endpoint receives the test-mode events of connected accounts too: they are no purchase or
        // subscription of the live app's (a test card paid for them), and their objects cannot be read with its key.
        var sameMode = stripeEvent.Livemode == _live;
        if (sameMode)
        {
            AddCheckoutStep(ref steps, stripeEvent);
        }
        else
        {
            Log.OtherMode(logger, stripeEvent.Type, stripeEvent.Id, stripeEvent.Livemode ? "live" : "test", _live ? "live" : "test");
        }

        foreach (var handler in subscriptionHandlers)
        {
            steps.Add(new Step(StepKind.Subscription, steps.KeyFor("subscription:" + StepName(handler.GetType())), handler));
        }

        foreach (var handler in services.GetServices<IStripeEventHandler>())
        {
            steps.Add(new Step(StepKind.Event, steps.KeyFor("event:" + StepName(handler.GetType())), handler));
        }

        var handled = false;
        Task<SubscriptionChange?>? change = null; // one change, built at most once, shared by the subscription handlers
        for (var index = 0; index < steps.Count; index++)
        {
            var step = steps[index];
            if (claim.IsStepCompleted(step.Key))
            {
                handled = true;
                continue;
            }

            var timed = PaymentsTelemetry.HandlerDuration.Enabled;
            var started = timed ? timeProvider.GetTimestamp() : 0;
            var outcome = "succeeded";
            try
            {
                switch (step.Kind)
                {
                    case StepKind.Fulfillment:
                        handled |= await fulfillment.FulfilAsync(services, store, stripeEvent, cancellationToken).ConfigureAwait(false) switch
                        {
                            FulfillmentOutcome.InProgress => throw new RetryLaterException("The purchase is being fulfilled by another delivery or the success page right now."),
                            FulfillmentOutcome.Fulfilled or FulfillmentOutcome.AlreadyFulfilled => true,
                            _ => false,
                        };
                        break;
                    case StepKind.PaymentFailed or StepKind.Expired:
                        var notified = await fulfillment.NotifyAsync(services, stripeEvent.ToCheckoutSession(), stripeEvent, step.Kind == StepKind.Expired, cancellationToken).ConfigureAwait(false);
                        handled |= notified == FulfillmentOutcome.Fulfilled;
                        break;
                    case StepKind.Subscription:
                        if (await (change ??= subscriptionChanges.CreateAsync(stripeEvent, reason, cancellationToken)).ConfigureAwait(false) is { } value)
                        {
                            await ((ISubscriptionHandler)step.Handler!).HandleAsync(value, cancellationToken).ConfigureAwait(false);
                            handled = true;
                        }

                        break;
                    default:
                        await ((IStripeEventHandler)step.Handler!).HandleAsync(stripeEvent, cancellationToken).ConfigureAwait(false);
                        handled = true;
                        break;
                }
            }
            catch (RetryLaterException)
            {
                outcome = "in_progress"; // the purchase is being fulfilled elsewhere: nothing failed
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                outcome = "cancelled";
                throw;
            }
            catch
            {
                outcome = "failed";
                throw;
            }
            finally
            {
                if (timed)
                {
                    PaymentsTelemetry.HandlerDuration.Record(
                        timeProvider.GetElapsedTime(started).TotalSeconds,
                        new TagList { { "handler.kind", step.KindTag }, { "stripe.event.type", stripeEvent.Type }, { "outcome", outcome } });
                }
            }

            if (steps.Count > 1)
            {
                await store.MarkStepCompletedAsync(stripeEvent.Id, step.Key, CancellationToken.None).ConfigureAwait(false);
            }
        }

        await store.MarkProcessedAsync(stripeEvent.Id, CancellationToken.None).ConfigureAwait(false);
        return handled;
    }

    /// <summary>
    /// A handler class's name in its step key: the full name, and for a generic class its definition's and its arguments'
    /// (recursively), never an assembly's name or version, so that a deploy that only bumps a version does not make a
    /// pending redelivery run again a handler that already succeeded.
    /// </summary>
    internal static string StepName(Type type) => !type.IsGenericType || type.IsGenericTypeDefinition
        ? type.FullName ?? type.Name
        : type.GetGenericTypeDefinition().FullName + "[" + string.Join(",", type.GetGenericArguments().Select(StepName)) + "]";

    private void AddCheckoutStep(ref Steps steps, StripeEvent stripeEvent)
    {
        switch (stripeEvent.Type)
        {
            case "checkout.session.completed":
                // The routing fields are read with the envelope: the session is deserialized only if a handler reads it.
                var session = stripeEvent.GetCheckoutRoute();
                if (session.PaymentStatus is "paid" or "no_payment_required")
                {
                    steps.Add(Step.Fulfil(StepKind.Fulfillment));
                }
                else
                {
                    Log.AwaitingPayment(logger, session.Id, session.PaymentStatus);
                }

                break;
            case "checkout.session.async_payment_succeeded":
                steps.Add(Step.Fulfil(StepKind.Fulfillment));
                break;
            case "checkout.session.async_payment_failed":
                steps.Add(Step.Fulfil(StepKind.PaymentFailed));
                break;
            case "checkout.session.expired":
                steps.Add(Step.Fulfil(StepKind.Expired));
                break;
        }
    }

    private enum StepKind
    {
        Fulfillment,
        PaymentFailed,
        Expired,
        Subscription,
        Event,
    }

    /// <summary>
    /// The event's steps: nearly always one (a Checkout session's fulfillment, or one handler), kept in place; a list only
    /// from the second on.
    /// </summary>
    private struct Steps
    {
        private Step _first;
        private List<Step>? _more;

        public int Count { get; private set; }

        public readonly Step this[int index] => index == 0 ? _first : _more![index - 1];

        /// <summary>
        /// The key of the next step whose handler's class is named <paramref name="key"/>: the name itself for the class's
        /// first registration, then <c>#2</c>, <c>#3</c>… after it (the container lists registrations in their order), so
        /// that two instances of one class configured differently are two steps, each completed on its own.
        /// </summary>
        public readonly string KeyFor(string key)
        {
            var earlier = 0;
            for (var index = 0; index < Count; index++)
            {
                var other = this[index].Key;
                if (other.StartsWith(key, StringComparison.Ordinal) && (other.Length == key.Length || other[key.Length] == '#'))
                {
                    earlier++;
                }
            }

            return earlier == 0 ? key : key + "#" + (earlier + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        public void Add(Step step)
        {
            if (Count++ == 0)
            {
                _first = step;
            }
            else
            {
                (_more ??= []).Add(step);
            }
        }
    }

    /// <summary>One step: what runs, the key its completion is recorded under, and the handler for per-handler steps.</summary>
    private readonly record struct Step(StepKind Kind, string Key, object? Handler)
    {
        /// <summary>The step of a Checkout session's fulfillment handler (one per event, whichever it is).</summary>
        public static Step Fulfil(StepKind kind) => new(kind, "fulfillment", null);

        /// <summary>Gets the <c>handler.kind</c> tag of its duration.</summary>
        public string KindTag => Kind switch
        {
            StepKind.Subscription => "subscription",
            StepKind.Event => "event",
            _ => "fulfillment",
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, EventName = "AwaitingAsyncPayment", Level = LogLevel.Information,
            Message = "Checkout session {SessionId} completed with payment status '{PaymentStatus}': fulfillment waits for checkout.session.async_payment_succeeded")]
        public static partial void AwaitingPayment(ILogger logger, string sessionId, string? paymentStatus);

        [LoggerMessage(EventId = 521, EventName = "EventOfTheOtherMode", Level = LogLevel.Information,
            Message = "Event {EventType} {EventId} happened in {EventMode} mode and the secret key is a {KeyMode} key (a live Connect endpoint receives connected accounts' test events too): no fulfillment or subscription handler runs for it")]
        public static partial void OtherMode(ILogger logger, string eventType, string eventId, string eventMode, string keyMode);
    }
}

/// <summary>The event cannot be handled now, but can be later: answer so that Stripe retries.</summary>
internal sealed class RetryLaterException(string message) : Exception(message);
