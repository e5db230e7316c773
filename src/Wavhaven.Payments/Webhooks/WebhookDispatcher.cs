using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
    ILogger<WebhookDispatcher> logger)
{
    /// <summary>
    /// Runs the event's steps and marks the event processed. When the store is transactional, both happen in
    /// one of its transactions, so that handlers writing to the same database commit with the mark or not at all.
    /// </summary>
    /// <returns>Whether any handler was interested.</returns>
    /// <exception cref="RetryLaterException">The purchase is being fulfilled elsewhere right now.</exception>
    public Task<bool> RunAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, CancellationToken cancellationToken) =>
        store is ITransactionalWebhookEventStore transactional
            ? transactional.ExecuteInTransactionAsync(ct => DispatchAndMarkProcessedAsync(services, stripeEvent, claim, store, ct), cancellationToken)
            : DispatchAndMarkProcessedAsync(services, stripeEvent, claim, store, cancellationToken);

    private async Task<bool> DispatchAndMarkProcessedAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, CancellationToken cancellationToken)
    {
        var handled = await DispatchAsync(services, stripeEvent, claim, store, cancellationToken).ConfigureAwait(false);
        await store.MarkProcessedAsync(stripeEvent.Id, CancellationToken.None).ConfigureAwait(false);
        return handled;
    }

    /// <summary>Runs the event's steps; returns whether any handler was interested.</summary>
    /// <exception cref="RetryLaterException">The purchase is being fulfilled elsewhere right now.</exception>
    private async Task<bool> DispatchAsync(IServiceProvider services, StripeEvent stripeEvent, WebhookClaim claim, IWebhookEventStore store, CancellationToken cancellationToken)
    {
        var steps = new List<Step>(2);
        AddCheckoutStep(steps, services, stripeEvent);
        AddSubscriptionSteps(steps, services, stripeEvent);
        foreach (var handler in services.GetServices<IStripeEventHandler>())
        {
            steps.Add(new Step("event:" + handler.GetType().FullName, "event", async ct =>
            {
                await handler.HandleAsync(stripeEvent, ct).ConfigureAwait(false);
                return true;
            }));
        }

        var handled = false;
        foreach (var step in steps)
        {
            if (claim.IsStepCompleted(step.Key))
            {
                handled = true;
                continue;
            }

            var started = timeProvider.GetTimestamp();
            var outcome = "succeeded";
            try
            {
                handled |= await step.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                outcome = "failed";
                throw;
            }
            finally
            {
                PaymentsTelemetry.HandlerDuration.Record(
                    timeProvider.GetElapsedTime(started).TotalSeconds,
                    new TagList { { "handler.kind", step.Kind }, { "stripe.event.type", stripeEvent.Type }, { "outcome", outcome } });
            }

            if (steps.Count > 1)
            {
                await store.MarkStepCompletedAsync(stripeEvent.Id, step.Key, CancellationToken.None).ConfigureAwait(false);
            }
        }

        return handled;
    }

    private void AddCheckoutStep(List<Step> steps, IServiceProvider services, StripeEvent stripeEvent)
    {
        switch (stripeEvent.Type)
        {
            case "checkout.session.completed":
                // The routing fields are read with the envelope: the session is deserialized only if a handler reads it.
                var session = stripeEvent.GetCheckoutRoute();
                if (session.PaymentStatus is "paid" or "no_payment_required")
                {
                    steps.Add(new Step("fulfillment", "fulfillment", ct => FulfilAsync(services, stripeEvent, ct)));
                }
                else
                {
                    Log.AwaitingPayment(logger, session.Id, session.PaymentStatus);
                }

                break;
            case "checkout.session.async_payment_succeeded":
                steps.Add(new Step("fulfillment", "fulfillment", ct => FulfilAsync(services, stripeEvent, ct)));
                break;
            case "checkout.session.async_payment_failed":
            case "checkout.session.expired":
                var expired = stripeEvent.Type == "checkout.session.expired";
                steps.Add(new Step("fulfillment", "fulfillment", async ct =>
                {
                    var outcome = await fulfillment.NotifyAsync(services, stripeEvent.ToCheckoutSession(), stripeEvent, expired, ct).ConfigureAwait(false);
                    return outcome == FulfillmentOutcome.Fulfilled;
                }));
                break;
        }
    }

    private void AddSubscriptionSteps(List<Step> steps, IServiceProvider services, StripeEvent stripeEvent)
    {
        if (!SubscriptionChangeFactory.TryGetReason(stripeEvent.Type, out var reason))
        {
            return;
        }

        var handlers = services.GetServices<ISubscriptionHandler>().ToList();
        if (handlers.Count == 0)
        {
            return;
        }

        // One change, built at most once, shared by the handlers.
        Task<SubscriptionChange?>? change = null;
        foreach (var handler in handlers)
        {
            steps.Add(new Step("subscription:" + handler.GetType().FullName, "subscription", async ct =>
            {
                var value = await (change ??= subscriptionChanges.CreateAsync(stripeEvent, reason, ct)).ConfigureAwait(false);
                if (value is null)
                {
                    return false;
                }

                await handler.HandleAsync(value, ct).ConfigureAwait(false);
                return true;
            }));
        }
    }

    private async Task<bool> FulfilAsync(IServiceProvider services, StripeEvent stripeEvent, CancellationToken cancellationToken)
    {
        var outcome = await fulfillment.FulfilAsync(services, stripeEvent, cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            FulfillmentOutcome.InProgress => throw new RetryLaterException("The purchase is being fulfilled by another delivery or the success page right now."),
            FulfillmentOutcome.Fulfilled or FulfillmentOutcome.AlreadyFulfilled => true,
            _ => false,
        };
    }

    private sealed record Step(string Key, string Kind, Func<CancellationToken, Task<bool>> RunAsync);

    private static partial class Log
    {
        [LoggerMessage(EventId = 520, EventName = "AwaitingAsyncPayment", Level = LogLevel.Information,
            Message = "Checkout session {SessionId} completed with payment status '{PaymentStatus}': fulfillment waits for checkout.session.async_payment_succeeded")]
        public static partial void AwaitingPayment(ILogger logger, string sessionId, string? paymentStatus);
    }
}

/// <summary>The event cannot be handled now, but can be later: answer so that Stripe retries.</summary>
internal sealed class RetryLaterException(string message) : Exception(message);
