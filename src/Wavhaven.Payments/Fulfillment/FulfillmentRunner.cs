using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Fulfillment;

/// <summary>What became of a purchase's fulfillment.</summary>
internal enum FulfillmentOutcome
{
    /// <summary>The handler ran and succeeded now.</summary>
    Fulfilled,

    /// <summary>It was fulfilled before (by the webhook, the success page, or another event).</summary>
    AlreadyFulfilled,

    /// <summary>Someone else is fulfilling it right now.</summary>
    InProgress,

    /// <summary>The session has no fulfillment type: it was not created by this library.</summary>
    NotOurs,

    /// <summary>No handler serves the session's fulfillment type.</summary>
    NoHandler,
}

/// <summary>
/// Runs the fulfillment handler of a paid Checkout session once per purchase: the purchase is claimed in the
/// event store under <c>checkout.session:{id}</c>, so the webhook, a second event and the success page's
/// sync cannot all fulfil it.
/// </summary>
internal sealed partial class FulfillmentRunner(IStripeClient stripe, TimeProvider timeProvider, ILogger<FulfillmentRunner> logger)
{
    private Func<FulfillmentContext, CancellationToken, Task<IReadOnlyList<StripeLineItem>>>? _lineItemLoader;

    // Each fulfillment type's handler class, learned on the first walk over all the handlers: later purchases resolve
    // only that class (AddFulfillmentHandler registers it as itself too, keyed), not every handler and its dependencies.
    private readonly ConcurrentDictionary<string, Type> _handlerClasses = new(StringComparer.Ordinal);

    public const string PurchaseType = "checkout.fulfillment";

    /// <summary>
    /// The service key under which AddFulfillmentHandler registers each handler's class as itself: an object of the
    /// library's own, so that no registration of the app's can share it, and hashed by reference. (A string key was
    /// hashed with the randomized string hash twice a purchase, by the container's two lookups: 70 ns.)
    /// </summary>
    public static readonly object HandlerKey = new ServiceKey("Wavhaven.Payments.FulfillmentHandler");

    public static string PurchaseId(string sessionId) => "checkout.session:" + sessionId;

    /// <summary>A service key that names itself in the container's messages and equals only itself.</summary>
    private sealed class ServiceKey(string name)
    {
        public override string ToString() => name;
    }

    /// <summary>
    /// Fulfils a session read from Stripe (the success page's sync). Its claim waits at most <paramref name="claimWait"/>:
    /// a webhook's fulfillment holds the purchase's row uncommitted in its transaction until its handler returns (PostgreSQL
    /// makes the claim wait for it), so a page must not wait for a slow handler, nor fail at its command timeout: past
    /// the wait the purchase is being fulfilled elsewhere.
    /// </summary>
    public Task<FulfillmentOutcome> FulfilAsync(IServiceProvider services, StripeCheckoutSession session, TimeSpan claimWait, CancellationToken cancellationToken) =>
        FulfilCoreAsync(services, services.GetRequiredService<IWebhookEventStore>(), CreateContext(session, stripeEvent: null), renew: true, cancellationToken, claimWait);

    /// <summary>
    /// Fulfils the session an event carries, read from the event only if the handler asks for it; the purchase is claimed
    /// in <paramref name="store"/>, the one the event itself was claimed in (and, if transactional, in its transaction).
    /// </summary>
    /// <remarks>
    /// A purchase claimed inside the event's transaction is not renewed: until that transaction ends, its uncommitted row
    /// keeps every other claimer of the purchase waiting (PostgreSQL's row lock, SQLite's write lock) whatever its lease,
    /// and a renewal on another connection would not even see it. The event's own claim, committed before the
    /// transaction, is the one renewed. A store without transactions commits each claim, so its purchase claim is renewed.
    /// </remarks>
    public Task<FulfillmentOutcome> FulfilAsync(IServiceProvider services, IWebhookEventStore store, StripeEvent stripeEvent, CancellationToken cancellationToken) =>
        FulfilCoreAsync(services, store, new FulfillmentContext(stripeEvent, stripeEvent.GetCheckoutRoute(), LineItemLoader), renew: store is not ITransactionalWebhookEventStore, cancellationToken);

    /// <summary>The least a success page's claim is given, however little is left of its wait.</summary>
    private static readonly TimeSpan MinimumClaimWait = TimeSpan.FromMilliseconds(500);

    private async Task<FulfillmentOutcome> FulfilCoreAsync(IServiceProvider services, IWebhookEventStore store, FulfillmentContext context, bool renew, CancellationToken cancellationToken, TimeSpan? claimWait = null)
    {
        var handler = FindHandler(services, context, out var outcome);
        if (handler is null)
        {
            return outcome;
        }

        var purchaseId = PurchaseId(context.SessionId);

        // The success page's claim waits at most what is left of its wait, and at least half a second: its last try comes
        // when the wait is spent, and a claim that waits for nobody still needs its round trip to the database (a purchase
        // just fulfilled would otherwise read as in progress). A webhook's claim has no such bound (no sources made).
        using var waited = claimWait is { } wait ? new CancellationTokenSource(wait > MinimumClaimWait ? wait : MinimumClaimWait, timeProvider) : null;
        using var bounded = waited is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, waited.Token);
        WebhookClaim claim;
        try
        {
            claim = await store.TryClaimAsync(purchaseId, PurchaseType, ReadOnlyMemory<byte>.Empty, bounded?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (waited is { IsCancellationRequested: true } && !cancellationToken.IsCancellationRequested)
        {
            return FulfillmentOutcome.InProgress; // the claim waited for another holder's transaction: it is fulfilling
        }

        switch (claim.Status)
        {
            case WebhookClaimStatus.AlreadyProcessed:
                Log.AlreadyFulfilled(logger, context.SessionId);
                return FulfillmentOutcome.AlreadyFulfilled;
            case WebhookClaimStatus.InProgress:
                return FulfillmentOutcome.InProgress;
        }

        // The success page's claim is committed before its transaction, so it holds by its lease alone: renewed while the
        // handler runs (by a store that renews). A lost claim cancels nothing: the handler's token is the page request's.
        var renewal = renew ? ClaimRenewal.Start(store, purchaseId, timeProvider, logger) : null;
        try
        {
            try
            {
                if (store is ITransactionalWebhookEventStore transactional)
                {
                    await FulfilInTransactionAsync(transactional, handler, context, purchaseId, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await handler.FulfillAsync(context, cancellationToken).ConfigureAwait(false);
                    await store.MarkProcessedAsync(purchaseId, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                renewal?.Dispose();
            }
        }
        catch (Exception) when (renewal is { Lost: true } && !cancellationToken.IsCancellationRequested)
        {
            // Another delivery (or page) fulfils the purchase now; this attempt's marks are fenced by the lost claim.
            return FulfillmentOutcome.InProgress;
        }
        catch (Exception exception)
        {
            await MarkFailedKeepingTheCauseAsync(store, purchaseId, exception).ConfigureAwait(false);
            throw;
        }

        Log.Fulfilled(logger, context.SessionId, handler.Type, context.Event?.Id ?? "the success page's sync");
        return FulfillmentOutcome.Fulfilled;
    }

    /// <summary>
    /// Marks the purchase failed after its handler threw. If the mark fails too, that is logged, and the handler's
    /// exception is the one that goes on: on PostgreSQL a handler's own failed statement aborts the webhook's transaction,
    /// so the mark inside it can only fail with "current transaction is aborted" (25P02), which would otherwise hide the
    /// cause from the event's last error and the log. The transaction's rollback undoes the purchase's claim anyway; a
    /// claim made outside one stays until its lease runs out.
    /// </summary>
    private async Task MarkFailedKeepingTheCauseAsync(IWebhookEventStore store, string purchaseId, Exception cause)
    {
        try
        {
            await store.MarkFailedAsync(purchaseId, WebhookFailure.Describe(cause), CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Logged; the handler's exception is rethrown by the caller.
        catch (Exception markFailure)
#pragma warning restore CA1031
        {
            Log.MarkFailedFailed(logger, purchaseId, WebhookFailure.Describe(markFailure), WebhookFailure.Describe(cause));
        }
    }

    /// <summary>
    /// The handler and the purchase's mark in the store's transaction: they commit together, or a failure leaves nothing
    /// half-written for the next attempt to write again. A webhook's dispatch has opened the transaction already, and
    /// this joins it; the success page's sync has none around it, and this opens one. (A method of its own, so that only
    /// transactional stores pay for the closure.)
    /// </summary>
    private static Task<bool> FulfilInTransactionAsync(ITransactionalWebhookEventStore store, IFulfillmentHandler handler, FulfillmentContext context, string purchaseId, CancellationToken cancellationToken) =>
        store.ExecuteInTransactionAsync(
            async ct =>
            {
                await handler.FulfillAsync(context, ct).ConfigureAwait(false);
                await store.MarkProcessedAsync(purchaseId, CancellationToken.None).ConfigureAwait(false);
                return true;
            },
            cancellationToken);

    public async Task<FulfillmentOutcome> NotifyAsync(IServiceProvider services, StripeCheckoutSession session, StripeEvent stripeEvent, bool expired, CancellationToken cancellationToken)
    {
        var context = CreateContext(session, stripeEvent);
        var handler = FindHandler(services, context, out var outcome);
        if (handler is null)
        {
            return outcome;
        }

        await (expired ? handler.OnExpiredAsync(context, cancellationToken) : handler.OnPaymentFailedAsync(context, cancellationToken)).ConfigureAwait(false);
        return FulfillmentOutcome.Fulfilled;
    }

    private IFulfillmentHandler? FindHandler(IServiceProvider services, FulfillmentContext context, out FulfillmentOutcome outcome)
    {
        var type = context.FulfillmentType;
        if (type.Length == 0)
        {
            Log.NotOurs(logger, context.SessionId);
            outcome = FulfillmentOutcome.NotOurs;
            return null;
        }

        // Checked again on the instance: a handler whose Type is not constant is not taken on a stale answer.
        if (_handlerClasses.TryGetValue(type, out var handlerClass)
            && services is IKeyedServiceProvider keyed
            && keyed.GetKeyedService(handlerClass, HandlerKey) is IFulfillmentHandler known
            && string.Equals(known.Type, type, StringComparison.Ordinal))
        {
            outcome = FulfillmentOutcome.Fulfilled;
            return known;
        }

        // The type's first purchase, or handlers registered other than by AddFulfillmentHandler (not resolvable by their
        // class): all of them, as the container's array, learning each one's type on the way.
        var handlers = services.GetServices<IFulfillmentHandler>();
        IFulfillmentHandler? found = null;
        foreach (var handler in handlers as IFulfillmentHandler[] ?? [.. handlers])
        {
            var handlerType = handler.Type;
            if (!string.IsNullOrEmpty(handlerType)) // refused at start-up, but a host may not validate: never a key
            {
                _handlerClasses.TryAdd(handlerType, handler.GetType());
            }

            if (found is null && string.Equals(handlerType, type, StringComparison.Ordinal))
            {
                found = handler;
            }
        }

        if (found is not null)
        {
            outcome = FulfillmentOutcome.Fulfilled;
            return found;
        }

        Log.NoHandler(logger, context.SessionId, type);
        outcome = FulfillmentOutcome.NoHandler;
        return null;
    }

    private FulfillmentContext CreateContext(StripeCheckoutSession session, StripeEvent? stripeEvent) =>
        new(session, stripeEvent, stripeEvent?.Account, LineItemLoader);

    /// <summary>One delegate for every context, rather than a closure per purchase.</summary>
    private Func<FulfillmentContext, CancellationToken, Task<IReadOnlyList<StripeLineItem>>> LineItemLoader => _lineItemLoader ??= LoadLineItemsAsync;

    private async Task<IReadOnlyList<StripeLineItem>> LoadLineItemsAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        var session = context.Session;
        if (session.LineItems is { HasMore: false } expanded)
        {
            return expanded.Data;
        }

        var items = new List<StripeLineItem>();
        string? startingAfter = null;
        while (true)
        {
            var page = await stripe.ListCheckoutLineItemsAsync(session.Id, startingAfter, context.Account, cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Data);
            if (!page.HasMore || page.Data.Count == 0)
            {
                return items;
            }

            startingAfter = page.Data[^1].Id;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 500, EventName = "PurchaseFulfilled", Level = LogLevel.Information, Message = "Checkout session {SessionId} fulfilled by the '{FulfillmentType}' handler, triggered by {Trigger}")]
        public static partial void Fulfilled(ILogger logger, string sessionId, string fulfillmentType, string trigger);

        [LoggerMessage(EventId = 501, EventName = "PurchaseAlreadyFulfilled", Level = LogLevel.Debug, Message = "Checkout session {SessionId} was already fulfilled; nothing runs")]
        public static partial void AlreadyFulfilled(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 502, EventName = "NoFulfillmentType", Level = LogLevel.Debug, Message = "Checkout session {SessionId} has no wavhaven_type metadata: it was not created by this library, so no fulfillment handler runs")]
        public static partial void NotOurs(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 503, EventName = "NoFulfillmentHandler", Level = LogLevel.Error, Message = "Checkout session {SessionId} has fulfillment type '{FulfillmentType}', but no IFulfillmentHandler with that Type is registered: register one with AddFulfillmentHandler<T>(). The purchase stays unfulfilled until SyncCheckoutAsync runs it")]
        public static partial void NoHandler(ILogger logger, string sessionId, string fulfillmentType);

        [LoggerMessage(EventId = 504, EventName = "PurchaseMarkFailed", Level = LogLevel.Warning, Message = "Purchase {PurchaseId} could not be marked failed ({MarkError}) after its handler threw ({HandlerError}); the handler's error is reported")]
        public static partial void MarkFailedFailed(ILogger logger, string purchaseId, string markError, string handlerError);
    }
}
