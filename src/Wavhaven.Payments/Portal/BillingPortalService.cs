using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Portal;

/// <summary>Resolves the user's customer (and subscription, for a switch) and creates the portal session.</summary>
internal sealed partial class BillingPortalService(
    IStripeClient stripe,
    IPlanCatalog catalog,
    ICustomerResolver customers,
    ILogger<BillingPortalService> logger) : IBillingPortalService
{
    /// <summary>Subscription statuses that can still be switched to another price.</summary>
    private static readonly HashSet<string> SwitchableStatuses = new(StringComparer.Ordinal) { "active", "trialing", "past_due" };

    public async Task<BillingPortalResult> CreatePortalSessionAsync(BillingPortalRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.UserId))
        {
            throw new InvalidPaymentRequestException(nameof(request.UserId), "UserId is empty: pass the app's id of the signed-in user.");
        }

        if (request.UserId.Length > MetadataRules.MaxUserIdLength)
        {
            throw new InvalidPaymentRequestException(nameof(request.UserId), $"UserId is {request.UserId.Length} characters long; at most {MetadataRules.MaxUserIdLength} are allowed (it keys the durable customer map).");
        }

        if (!StripeText.IsWellFormed(request.UserId))
        {
            throw new InvalidPaymentRequestException(nameof(request.UserId), $"UserId {StripeText.IllFormedProblem}");
        }

        if (MetadataRules.TenantProblem(request.TenantId) is { } tenantProblem)
        {
            throw new InvalidPaymentRequestException(nameof(request.TenantId), tenantProblem);
        }

        if (!StripePaymentsOptionsValidator.IsAbsoluteHttpUrl(request.ReturnUrl))
        {
            throw new InvalidPaymentRequestException(nameof(request.ReturnUrl), "ReturnUrl must be an absolute http(s) URL: the portal's return link leads there.");
        }

        PlanPrice? target = null;
        if (request.SwitchToPriceId is { } priceId)
        {
            if (!catalog.TryGetPrice(priceId, out target) || target.PriceId != priceId)
            {
                throw new InvalidPaymentRequestException(nameof(request.SwitchToPriceId), $"SwitchToPriceId '{priceId}' is not a {catalog.Mode.ToString().ToLowerInvariant()}-mode price of the catalog.");
            }

            if (!target.IsRecurring)
            {
                throw new InvalidPaymentRequestException(nameof(request.SwitchToPriceId), $"SwitchToPriceId '{priceId}' is a one-time price of plan '{target.Plan.Id}'; a subscription can switch only to a Month or Year price.");
            }
        }

        var key = new CustomerKey(request.UserId, request.TenantId);
        var customerId = await customers.FindCustomerIdAsync(key, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"User '{request.UserId}' has no Stripe customer yet: the billing portal opens for users who have checked out as registered buyers.");

        var form = new StripeForm
        {
            ["customer"] = customerId,
            ["return_url"] = request.ReturnUrl,
        };

        if (target is not null)
        {
            var (subscriptionId, itemId) = await FindSwitchableItemAsync(customerId, target, request.UserId, cancellationToken).ConfigureAwait(false);
            form["flow_data"] = new StripeForm
            {
                ["type"] = "subscription_update_confirm",
                ["subscription_update_confirm"] = new StripeForm
                {
                    ["subscription"] = subscriptionId,
                    ["items"] = new[] { new StripeForm { ["id"] = itemId, ["price"] = target.PriceId } },
                },
                ["after_completion"] = new StripeForm
                {
                    ["type"] = "redirect",
                    ["redirect"] = new StripeForm { ["return_url"] = request.ReturnUrl },
                },
            };
        }

        var session = await stripe.CreateBillingPortalSessionAsync(form, cancellationToken).ConfigureAwait(false);
        if (session.Url is null || !Uri.TryCreate(session.Url, UriKind.Absolute, out var url))
        {
            throw new InvalidOperationException($"Stripe created billing portal session {session.Id} without a URL.");
        }

        Log.PortalSessionCreated(logger, session.Id, customerId, target is not null);
        return new BillingPortalResult(session.Id, url);
    }

    /// <summary>
    /// The user's subscription item to switch to <paramref name="target"/>: among the items on a recurring catalog price in
    /// the user's live subscriptions, the one on <paramref name="target"/>'s plan (monthly to yearly, say), else the only
    /// one there is (a switch to another plan). Several candidates and none on the target's plan (a plan beside an
    /// add-on) are refused rather than guessed: replacing the wrong item would bill the user twice. An item of a
    /// subscription with several items is refused too: Stripe's portal cannot update such a subscription.
    /// </summary>
    private async Task<(string SubscriptionId, string ItemId)> FindSwitchableItemAsync(string customerId, PlanPrice target, string userId, CancellationToken cancellationToken)
    {
        var subscriptions = await stripe.ListSubscriptionsAsync(customerId, cancellationToken).ConfigureAwait(false);
        var candidates = new List<(string SubscriptionId, string ItemId, PlanPrice Current)>();
        var severalItems = new List<string>();
        foreach (var subscription in subscriptions.Data.Where(s => s.Status is not null && SwitchableStatuses.Contains(s.Status)))
        {
            // The portal cannot update a subscription with several items ("subscriptions with multiple items are not updatable").
            var items = subscription.Items?.Data ?? [];
            if (items.Count > 1)
            {
                severalItems.Add(subscription.Id);
            }

            foreach (var item in items)
            {
                if (item.Price?.Id is not { } currentPriceId || !catalog.TryGetPrice(currentPriceId, out var current) || !current.IsRecurring)
                {
                    continue;
                }

                if (currentPriceId == target.PriceId)
                {
                    throw new InvalidPaymentRequestException("SwitchToPriceId", $"Subscription {subscription.Id} is already on price '{target.PriceId}'; there is nothing to switch.");
                }

                candidates.Add((subscription.Id, item.Id, current));
            }
        }

        var samePlan = candidates.Where(candidate => candidate.Current.Plan.Id == target.Plan.Id).ToList();
        var chosen = samePlan.Count > 0 ? samePlan : candidates;
        return chosen.Count switch
        {
            1 when severalItems.Contains(chosen[0].SubscriptionId) => throw new InvalidOperationException(
                $"Subscription {chosen[0].SubscriptionId} of user '{userId}' has several items, and Stripe's portal cannot update such a subscription " +
                "(flow_data[subscription_update_confirm] refuses it). Change it with the Subscriptions API instead."),
            1 => (chosen[0].SubscriptionId, chosen[0].ItemId),
            0 => throw new InvalidOperationException($"User '{userId}' has no active subscription on a catalog plan to switch to '{target.PriceId}'. Use a subscription checkout instead."),
            _ => throw new InvalidOperationException(
                $"User '{userId}' has {chosen.Count} subscription items on catalog plans ({string.Join(", ", chosen.Select(c => $"{c.ItemId} on plan '{c.Current.Plan.Id}'"))}), " +
                $"so which one to switch to '{target.PriceId}' (plan '{target.Plan.Id}') is ambiguous. Let the user choose in the portal without SwitchToPriceId."),
        };
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 300, EventName = "PortalSessionCreated", Level = LogLevel.Information,
            Message = "Billing portal session {SessionId} created for customer {CustomerId} (plan switch: {IsSwitch})")]
        public static partial void PortalSessionCreated(ILogger logger, string sessionId, string customerId, bool isSwitch);
    }
}
