using System.Diagnostics;
using System.Net.Mail;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Checkout;

/// <summary>Checks a <see cref="CheckoutRequest"/>, resolves the buyer, and creates the Checkout session.</summary>
internal sealed partial class CheckoutService(
    IStripeClient stripe,
    IPlanCatalog catalog,
    ICustomerResolver customers,
    FulfillmentRunner fulfillment,
    IServiceProvider services,
    IOptions<StripePaymentsOptions> options,
    TimeProvider timeProvider,
    ILogger<CheckoutService> logger) : ICheckoutService
{
    /// <summary>How long a sync waits for a fulfillment running elsewhere before it answers <see cref="CheckoutSyncStatus.Fulfilling"/>.</summary>
    internal static readonly TimeSpan SyncWait = TimeSpan.FromSeconds(3);

    /// <summary>Stripe's limit on line items of one Checkout session.</summary>
    internal const int MaxLines = 100;

    /// <summary>Stripe's limit in subscription mode: this many lines with recurring prices, and as many with one-time ones.</summary>
    internal const int MaxSubscriptionLinesOfAKind = 20;

    /// <summary>Stripe's limit on <c>client_reference_id</c>.</summary>
    internal const int MaxClientReferenceIdLength = 200;

    /// <summary>Stripe's limit on idempotency keys.</summary>
    internal const int MaxIdempotencyKeyLength = 255;

    private const string SessionIdPlaceholder = "{CHECKOUT_SESSION_ID}";

    public async Task<CheckoutResult> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.CreateCheckout");
        try
        {
            var plan = Validate(request);
            activity?.SetTag("wavhaven.checkout.mode", plan.Mode);
            activity?.SetTag("wavhaven.checkout.buyer", request.Buyer.IsGuest ? "guest" : "registered");
            activity?.SetTag("wavhaven.fulfillment_type", request.FulfillmentType);

            string? customerId = null;
            if (request.Buyer is RegisteredBuyer registered)
            {
                customerId = await customers
                    .GetOrCreateCustomerIdAsync(new CustomerKey(registered.UserId, request.TenantId), registered.Email, registered.Name, cancellationToken)
                    .ConfigureAwait(false);
            }

            var idempotencyKey = request.IdempotencyKey ?? IdempotencyKeys.New("wavhaven-checkout-");
            StripeCheckoutSessionLink session;
            try
            {
                session = await stripe.CreateCheckoutSessionAsync(new CheckoutSessionParameters(request, plan, customerId), idempotencyKey, cancellationToken).ConfigureAwait(false);
            }
            catch (StripeApiException exception) when (exception is { Code: "resource_missing", Param: "customer" }
                && request.Buyer is RegisteredBuyer buyer && customerId is not null && customers is CustomerResolver resolver)
            {
                // The stored customer is gone from Stripe (deleted, test data cleared, a key of the other mode): without
                // this, every checkout of the user would fail the same way until someone edited the customer store.
                customerId = await resolver.ReplaceMissingCustomerAsync(new CustomerKey(buyer.UserId, request.TenantId), customerId, buyer.Email, buyer.Name, cancellationToken).ConfigureAwait(false);

                // Stripe refuses a key reused with other parameters: the retry's key is derived from the first and the new customer.
                session = await stripe.CreateCheckoutSessionAsync(new CheckoutSessionParameters(request, plan, customerId), DerivedKey(idempotencyKey, customerId), cancellationToken).ConfigureAwait(false);
            }

            if (session.Url is null || !Uri.TryCreate(session.Url, UriKind.Absolute, out var url))
            {
                throw new InvalidOperationException($"Stripe created Checkout session {session.Id} without a URL to send the buyer to. Only hosted Checkout sessions are supported.");
            }

            activity?.SetTag("stripe.checkout_session.id", session.Id);
            Log.SessionCreated(logger, session.Id, plan.Mode, request.Lines.Count, request.Buyer.IsGuest ? "guest" : "registered", request.FulfillmentType);
            return new CheckoutResult(session.Id, url, session.ExpiresAt);
        }
        catch (Exception exception) when (activity is not null)
        {
            // A failed checkout (refused by Stripe, invalid, unreachable) ends its span as an error, as its Stripe call's does.
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            throw;
        }
    }

    /// <summary>The idempotency key of a checkout retried with a replaced customer: the first key's, told apart by the customer.</summary>
    private static string DerivedKey(string idempotencyKey, string customerId)
    {
        var key = idempotencyKey + "-" + customerId;
        return key.Length <= MaxIdempotencyKeyLength
            ? key
            : "wavhaven-checkout-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)));
    }

    public async Task<CheckoutSyncResult> SyncCheckoutAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        var session = await stripe.GetCheckoutSessionAsync(sessionId, account: null, cancellationToken).ConfigureAwait(false);
        if (session.Status == "expired")
        {
            return new CheckoutSyncResult(CheckoutSyncStatus.Expired, session);
        }

        if (session.Status != "complete")
        {
            return new CheckoutSyncResult(CheckoutSyncStatus.Open, session);
        }

        if (session.PaymentStatus is not ("paid" or "no_payment_required"))
        {
            var failed = await DelayedPaymentFailedAsync(session, cancellationToken).ConfigureAwait(false);
            return new CheckoutSyncResult(failed ? CheckoutSyncStatus.PaymentFailed : CheckoutSyncStatus.PaymentPending, session);
        }

        // The handler runs in the caller's scope, so it shares the request's DbContext.
        var waitUntil = timeProvider.GetUtcNow() + SyncWait;
        while (true)
        {
            var outcome = await fulfillment.FulfilAsync(services, session, waitUntil - timeProvider.GetUtcNow(), cancellationToken).ConfigureAwait(false);
            switch (outcome)
            {
                case FulfillmentOutcome.Fulfilled or FulfillmentOutcome.AlreadyFulfilled:
                    return new CheckoutSyncResult(CheckoutSyncStatus.Fulfilled, session);
                case FulfillmentOutcome.NotOurs or FulfillmentOutcome.NoHandler:
                    return new CheckoutSyncResult(CheckoutSyncStatus.NotFulfillable, session);
            }

            // The webhook is fulfilling it right now: give it a moment rather than show "pending".
            if (timeProvider.GetUtcNow() >= waitUntil)
            {
                return new CheckoutSyncResult(CheckoutSyncStatus.Fulfilling, session);
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), timeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<CheckoutExpireResult> ExpireCheckoutAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        using var activity = PaymentsTelemetry.Source.StartActivity("Wavhaven.Payments.ExpireCheckout");
        activity?.SetTag("stripe.checkout_session.id", sessionId);
        try
        {
            var result = await ExpireAsync(sessionId, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("wavhaven.checkout.expire_status", result.Status switch
            {
                CheckoutExpireStatus.Expired => "expired",
                CheckoutExpireStatus.AlreadyExpired => "already_expired",
                CheckoutExpireStatus.PaymentFailed => "payment_failed",
                _ => "completed",
            });
            return result;
        }
        catch (Exception exception) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            throw;
        }
    }

    private async Task<CheckoutExpireResult> ExpireAsync(string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            // A key of this call's own: every retry of the client reuses it (a retry after a lost answer gets the first
            // answer back), and a later call is a new request, not the replay of an earlier failure.
            var expired = await stripe.ExpireCheckoutSessionAsync(sessionId, IdempotencyKeys.New("wavhaven-expire-"), cancellationToken).ConfigureAwait(false);
            Log.SessionExpired(logger, expired.Id);
            return new CheckoutExpireResult(CheckoutExpireStatus.Expired, expired);
        }
        catch (StripeApiException exception) when (exception is { StatusCode: 400, Type: StripeErrorTypes.InvalidRequestError })
        {
            // Stripe refuses a session that is not open with the same error whatever it is: only the session tells an
            // expired one (nothing to do) from a completed one (the buyer paid first).
            var session = await stripe.GetCheckoutSessionAsync(sessionId, account: null, cancellationToken).ConfigureAwait(false);
            switch (session.Status)
            {
                case "expired":
                    Log.SessionAlreadyExpired(logger, session.Id);
                    return new CheckoutExpireResult(CheckoutExpireStatus.AlreadyExpired, session);
                case "complete" when session.PaymentStatus is not ("paid" or "no_payment_required")
                    && await DelayedPaymentFailedAsync(session, cancellationToken).ConfigureAwait(false):
                    Log.SessionAlreadyExpired(logger, session.Id);
                    return new CheckoutExpireResult(CheckoutExpireStatus.PaymentFailed, session);
                case "complete":
                    Log.SessionCompletedBeforeExpiry(logger, session.Id, session.PaymentStatus);
                    return new CheckoutExpireResult(CheckoutExpireStatus.Completed, session);
                default:
                    throw; // still open: Stripe refused it for another reason, which its error says
            }
        }
    }

    /// <summary>
    /// Whether the delayed payment of a complete but unpaid session has failed: its session says "unpaid" for good then,
    /// as while the payment is on its way, and only the payment (payment mode) or the subscription tells the two apart.
    /// </summary>
    private async Task<bool> DelayedPaymentFailedAsync(StripeCheckoutSession session, CancellationToken cancellationToken)
    {
        if (session.PaymentIntent is { } paymentIntentId)
        {
            var intent = await stripe.GetPaymentIntentAsync(paymentIntentId, account: null, cancellationToken).ConfigureAwait(false);
            return intent.Status is "requires_payment_method" or "canceled";
        }

        if (session.Subscription is { } subscriptionId)
        {
            var subscription = await stripe.GetSubscriptionAsync(subscriptionId, account: null, cancellationToken).ConfigureAwait(false);
            return subscription.Status is "past_due" or "unpaid" or "canceled" or "incomplete_expired";
        }

        return false;
    }

    /// <summary>Every rule of a request, checked before any call to Stripe.</summary>
    internal CheckoutPlan Validate(CheckoutRequest request)
    {
        ValidateBuyer(request.Buyer);

        if (string.IsNullOrWhiteSpace(request.FulfillmentType))
        {
            throw Refuse(nameof(request.FulfillmentType), "FulfillmentType is empty: name the fulfillment handler that runs once the checkout is paid (its IFulfillmentHandler.Type).");
        }

        if (request.FulfillmentType.Length > MetadataRules.MaxValueLength)
        {
            throw Refuse(nameof(request.FulfillmentType), $"FulfillmentType is {request.FulfillmentType.Length} characters long; Stripe metadata values hold at most {MetadataRules.MaxValueLength}.");
        }

        RequireWellFormed(request.FulfillmentType, nameof(request.FulfillmentType));

        if (MetadataRules.TenantProblem(request.TenantId) is { } tenantProblem)
        {
            throw Refuse(nameof(request.TenantId), tenantProblem);
        }

        if (request.IdempotencyKey is { } key && (key.Length == 0 || key.Length > MaxIdempotencyKeyLength))
        {
            throw Refuse(nameof(request.IdempotencyKey), $"IdempotencyKey must be 1 to {MaxIdempotencyKeyLength} characters long; leave it null to have one generated.");
        }

        if (request.IdempotencyKey is { } headerKey && !StripeText.IsHeaderSafe(headerKey))
        {
            throw Refuse(nameof(request.IdempotencyKey), "IdempotencyKey may hold only visible ASCII characters (no spaces, line breaks or accented letters): it is sent as the Idempotency-Key header.");
        }

        var lines = ResolveLines(request.Lines);
        var recurring = lines.Count(line => line.Price?.IsRecurring == true);
        var oneTime = lines.Count - recurring;
        var mode = recurring > 0 ? "subscription" : "payment";
        if (mode == "subscription" && (recurring > MaxSubscriptionLinesOfAKind || oneTime > MaxSubscriptionLinesOfAKind))
        {
            throw Refuse(nameof(request.Lines), $"A subscription checkout holds at most {MaxSubscriptionLinesOfAKind} lines with recurring prices and {MaxSubscriptionLinesOfAKind} with one-time prices; this cart has {recurring} and {oneTime}.");
        }

        if (request.TrialDays is { } trialDays)
        {
            if (mode != "subscription")
            {
                throw Refuse(nameof(request.TrialDays), "TrialDays applies only to subscription checkouts, and this cart has no recurring price.");
            }

            if (trialDays is < 1 or > 730)
            {
                throw Refuse(nameof(request.TrialDays), $"TrialDays is {trialDays}; Stripe accepts 1 to 730 days.");
            }
        }

        var reservedKeys = request.TenantId is null ? 3 : 4;
        MetadataRules.Validate(request.Metadata, nameof(request.Metadata), reservedKeys);

        var successUrl = WithSessionIdPlaceholder(ResolveUrl(request.SuccessUrl, options.Value.SuccessUrl, nameof(request.SuccessUrl), "Stripe:SuccessUrl"));
        var cancelUrl = ResolveUrl(request.CancelUrl, options.Value.CancelUrl, nameof(request.CancelUrl), "Stripe:CancelUrl");
        return new CheckoutPlan(mode, lines, successUrl, cancelUrl);
    }

    private static void ValidateBuyer(CheckoutBuyer? buyer)
    {
        if (buyer is null)
        {
            throw Refuse("Buyer", "Buyer is missing: use CheckoutBuyer.Guest(email, userId) or CheckoutBuyer.Registered(userId, email, name).");
        }

        if (string.IsNullOrWhiteSpace(buyer.UserId))
        {
            throw Refuse("Buyer.UserId", "Buyer.UserId is empty: pass the app's id for the buyer (for a guest, the order's or cart's id). It comes back on every event as the session's client_reference_id.");
        }

        if (buyer.UserId.Length > MaxClientReferenceIdLength)
        {
            throw Refuse("Buyer.UserId", $"Buyer.UserId is {buyer.UserId.Length} characters long; Stripe's client_reference_id holds at most {MaxClientReferenceIdLength}.");
        }

        RequireWellFormed(buyer.UserId, "Buyer.UserId");
        if (buyer is RegisteredBuyer registered)
        {
            RequireWellFormed(registered.Name, "Buyer.Name");
        }

        switch (buyer)
        {
            case GuestBuyer guest when !IsEmail(guest.Email):
                throw Refuse("Buyer.Email", "Buyer.Email is not a valid email address; a guest buyer needs one to receive the receipt and the purchase.");
            case RegisteredBuyer { Email: { } email } when !IsEmail(email):
                throw Refuse("Buyer.Email", "Buyer.Email is not a valid email address. Pass a valid one, or null to let the buyer enter it on Checkout.");
        }
    }

    private List<ResolvedLine> ResolveLines(IReadOnlyList<CheckoutLine>? lines)
    {
        if (lines is null || lines.Count == 0)
        {
            throw Refuse("Lines", "The cart is empty: add at least one line (CheckoutLine.ForPlan or CheckoutLine.Item).");
        }

        if (lines.Count > MaxLines)
        {
            throw Refuse("Lines", $"The cart has {lines.Count} lines; a Checkout session holds at most {MaxLines}.");
        }

        var resolved = new List<ResolvedLine>(lines.Count);
        string? currency = null;
        PriceInterval? interval = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var line = lines[i] ?? throw Refuse(At(i), $"{At(i)} is null.");
            if (line.Quantity < 1)
            {
                throw Refuse($"{At(i)}.Quantity", $"{At(i)}.Quantity is {line.Quantity}; it must be at least 1.");
            }

            ResolvedLine next;
            switch (line)
            {
                case PlanLine planLine:
                    next = new ResolvedLine(line, ResolvePrice(planLine, i), null);
                    break;
                case ItemLine item:
                    ValidateItem(item, i);
                    next = new ResolvedLine(line, null, item.Currency.ToLowerInvariant());
                    break;
                default:
                    throw Refuse(At(i), $"{At(i)} is a {line.GetType().Name}; use CheckoutLine.ForPlan or CheckoutLine.Item.");
            }

            if (currency is null)
            {
                currency = next.Currency;
            }
            else if (!string.Equals(currency, next.Currency, StringComparison.Ordinal))
            {
                throw Refuse($"{At(i)}.Currency", $"{At(i)} is priced in {next.Currency}, but the cart's earlier lines are in {currency}. A Checkout session takes one currency: split the cart.");
            }

            if (next.Price is { IsRecurring: true } recurring)
            {
                // Stripe bills a subscription's items on one schedule, and refuses a Checkout whose recurring prices differ in it.
                if (interval is null)
                {
                    interval = recurring.Interval;
                }
                else if (interval != recurring.Interval)
                {
                    throw Refuse($"{At(i)}.Interval", $"{At(i)} bills every {recurring.Interval}, but the cart's earlier recurring lines bill every {interval}. A subscription has one billing interval: split the cart.");
                }
            }

            resolved.Add(next);
        }

        return resolved;
    }

    private PlanPrice ResolvePrice(PlanLine line, int index)
    {
        if (string.IsNullOrEmpty(line.PlanId) || !catalog.TryGetPlan(line.PlanId, out var plan))
        {
            throw Refuse($"{At(index)}.PlanId", $"{At(index)}.PlanId '{line.PlanId}' is not a plan of the catalog. Known plans: {string.Join(", ", catalog.Plans.Select(p => p.Id))}.");
        }

        if (plan.BillingType == BillingType.Free)
        {
            throw Refuse($"{At(index)}.PlanId", $"{At(index)}: plan '{plan.Id}' is free, so there is nothing to pay. Grant it in the app without Checkout.");
        }

        if (line.Interval is { } interval)
        {
            return plan.GetPrice(interval)
                ?? throw Refuse($"{At(index)}.Interval", $"{At(index)}: plan '{plan.Id}' has no {interval} price. It has: {string.Join(", ", plan.Prices.Select(p => p.Interval))}.");
        }

        return plan.Prices.Count == 1
            ? plan.Prices[0]
            : throw Refuse($"{At(index)}.Interval", $"{At(index)}: plan '{plan.Id}' has several prices ({string.Join(", ", plan.Prices.Select(p => p.Interval))}); say which with the line's Interval.");
    }

    private static void ValidateItem(ItemLine item, int index)
    {
        if (string.IsNullOrWhiteSpace(item.Name))
        {
            throw Refuse($"{At(index)}.Name", $"{At(index)}.Name is empty: Checkout shows it to the buyer.");
        }

        if (!StripeText.IsWellFormed(item.Name))
        {
            throw Refuse($"{At(index)}.Name", $"{At(index)}.Name {StripeText.IllFormedProblem}");
        }

        if (item.UnitAmount < 0)
        {
            throw Refuse($"{At(index)}.UnitAmount", $"{At(index)}.UnitAmount is {item.UnitAmount}; amounts are zero or more, in minor units (1999 = 19.99).");
        }

        if (!StripePaymentsOptionsValidator.IsCurrencyCode(item.Currency))
        {
            throw Refuse($"{At(index)}.Currency", $"{At(index)}.Currency '{item.Currency}' is not a three-letter ISO currency code such as usd or eur.");
        }

        MetadataRules.Validate(item.ProductMetadata, "ProductMetadata", index, reservedKeys: 0);
    }

    /// <summary>The name of a cart line in refusals, built only when one is thrown.</summary>
    private static string At(int index) => $"Lines[{index}]";

    private static string ResolveUrl(string? fromRequest, string? fromOptions, string field, string optionKey)
    {
        var url = fromRequest ?? fromOptions;
        if (string.IsNullOrEmpty(url))
        {
            throw Refuse(field, $"{field} is not set: pass it on the request or set {optionKey}.");
        }

        if (!StripePaymentsOptionsValidator.IsAbsoluteHttpUrl(url))
        {
            throw Refuse(field, $"{field} must be an absolute http(s) URL.");
        }

        return url;
    }

    /// <summary>
    /// Adds <c>session_id={CHECKOUT_SESSION_ID}</c> to the URL's query when the placeholder is missing (after unescaping a
    /// percent-encoded one): before any fragment, which browsers never send to the server.
    /// </summary>
    private static string WithSessionIdPlaceholder(string url)
    {
        // Uri.AbsoluteUri, UriBuilder and ASP.NET Core's URL helpers escape the braces, and Stripe substitutes only the literal.
        url = url.Replace("%7BCHECKOUT_SESSION_ID%7D", SessionIdPlaceholder, StringComparison.Ordinal)
            .Replace("%7bCHECKOUT_SESSION_ID%7d", SessionIdPlaceholder, StringComparison.Ordinal);
        if (url.Contains(SessionIdPlaceholder, StringComparison.Ordinal))
        {
            return url;
        }

        var hash = url.IndexOf('#', StringComparison.Ordinal);
        var (beforeFragment, fragment) = hash < 0 ? (url, string.Empty) : (url[..hash], url[hash..]);
        var separator = beforeFragment.EndsWith('?') || beforeFragment.EndsWith('&') ? string.Empty
            : beforeFragment.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        return beforeFragment + separator + "session_id=" + SessionIdPlaceholder + fragment;
    }

    /// <summary>Whether <paramref name="email"/> is one well-formed address with a dotted domain: checkout's rule, and the customer update's.</summary>
    internal static bool IsEmail(string? email) =>
        !string.IsNullOrWhiteSpace(email)
        && email.Length <= 512
        && StripeText.IsWellFormed(email)
        && MailAddress.TryCreate(email, out var address)
        && string.Equals(address.Address, email, StringComparison.Ordinal)
        && address.Host.Contains('.', StringComparison.Ordinal);

    private static InvalidPaymentRequestException Refuse(string field, string message) => new(field, message);

    private static void RequireWellFormed(string? value, string field)
    {
        if (!StripeText.IsWellFormed(value))
        {
            throw Refuse(field, $"{field} {StripeText.IllFormedProblem}");
        }
    }

    /// <summary>A request that passed every rule, ready to be encoded.</summary>
    internal sealed record CheckoutPlan(string Mode, IReadOnlyList<ResolvedLine> Lines, string SuccessUrl, string CancelUrl);

    /// <summary>A cart line with its catalog price (or none, for an ad-hoc item) and its currency.</summary>
    internal sealed record ResolvedLine(CheckoutLine Line, PlanPrice? Price, string? ItemCurrency)
    {
        public string Currency => Price?.Currency ?? ItemCurrency!;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 100, EventName = "CheckoutSessionCreated", Level = LogLevel.Information,
            Message = "Checkout session {SessionId} created: {Mode}, {LineCount} line(s), {BuyerKind} buyer, fulfillment type '{FulfillmentType}'")]
        public static partial void SessionCreated(ILogger logger, string sessionId, string mode, int lineCount, string buyerKind, string fulfillmentType);

        [LoggerMessage(EventId = 101, EventName = "CheckoutSessionExpired", Level = LogLevel.Information,
            Message = "Checkout session {SessionId} expired on request: it can no longer be paid")]
        public static partial void SessionExpired(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 102, EventName = "CheckoutSessionAlreadyExpired", Level = LogLevel.Debug,
            Message = "Checkout session {SessionId} had expired already, or its delayed payment had failed: it cannot be paid, nothing to do")]
        public static partial void SessionAlreadyExpired(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 103, EventName = "CheckoutSessionCompletedBeforeExpiry", Level = LogLevel.Information,
            Message = "Checkout session {SessionId} was not expired: the buyer completed it first (payment status '{PaymentStatus}'). Do not open another checkout for the same purchase")]
        public static partial void SessionCompletedBeforeExpiry(ILogger logger, string sessionId, string? paymentStatus);
    }
}
