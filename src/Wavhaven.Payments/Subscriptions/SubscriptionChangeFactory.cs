using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Subscriptions;

/// <summary>Turns a subscription or invoice event into a <see cref="SubscriptionChange"/> carrying the subscription's latest state.</summary>
internal sealed class SubscriptionChangeFactory(IStripeClient stripe, IPlanCatalog catalog)
{
    public static bool TryGetReason(string eventType, out SubscriptionChangeReason reason)
    {
        switch (eventType)
        {
            case "customer.subscription.created": reason = SubscriptionChangeReason.Created; return true;
            case "customer.subscription.updated": reason = SubscriptionChangeReason.Updated; return true;
            case "customer.subscription.deleted": reason = SubscriptionChangeReason.Deleted; return true;
            case "customer.subscription.trial_will_end": reason = SubscriptionChangeReason.TrialWillEnd; return true;
            case "invoice.paid": reason = SubscriptionChangeReason.InvoicePaid; return true;
            case "invoice.payment_failed": reason = SubscriptionChangeReason.InvoicePaymentFailed; return true;
            default: reason = default; return false;
        }
    }

    /// <summary>
    /// The key under which events of <paramref name="reason"/> take turns, read from the event (not fetched): its customer's
    /// (<c>customer:cus_…</c>), since an app keeps one account per user (one customer) that follows one of the user's
    /// subscriptions, so two subscriptions of one customer (one cancelled, one taken again) must take turns too; the
    /// subscription's (<c>subscription:sub_…</c>) when the event names no customer; <see langword="null"/> for an invoice
    /// that bills no subscription.
    /// </summary>
    public static string? TurnKeyOf(StripeEvent stripeEvent, SubscriptionChangeReason reason)
    {
        string? subscriptionId, customer;
        if (reason is SubscriptionChangeReason.InvoicePaid or SubscriptionChangeReason.InvoicePaymentFailed)
        {
            var invoice = stripeEvent.ToInvoice();
            (subscriptionId, customer) = (invoice.SubscriptionId, invoice.Customer);
        }
        else
        {
            var subscription = stripeEvent.ToSubscription();
            (subscriptionId, customer) = (subscription.Id, subscription.Customer);
        }

        return subscriptionId is null ? null
            : string.IsNullOrEmpty(customer) ? "subscription:" + subscriptionId
            : "customer:" + customer;
    }

    /// <summary>Returns <see langword="null"/> for an invoice that bills no subscription.</summary>
    public async Task<SubscriptionChange?> CreateAsync(StripeEvent stripeEvent, SubscriptionChangeReason reason, CancellationToken cancellationToken)
    {
        StripeInvoice? invoice = null;
        StripeSubscription? snapshot = null;
        string? subscriptionId;
        if (reason is SubscriptionChangeReason.InvoicePaid or SubscriptionChangeReason.InvoicePaymentFailed)
        {
            invoice = stripeEvent.ToInvoice();
            subscriptionId = invoice.SubscriptionId;
            if (subscriptionId is null)
            {
                return null;
            }
        }
        else
        {
            snapshot = stripeEvent.ToSubscription();
            subscriptionId = snapshot.Id;
        }

        // Events arrive in any order: read the subscription as it is now, not as the event saw it.
        StripeSubscription latest;
        try
        {
            latest = await stripe.GetSubscriptionAsync(subscriptionId, stripeEvent.Account, cancellationToken).ConfigureAwait(false);
        }
        catch (StripeApiException exception) when (exception.StatusCode == 404 && snapshot is not null)
        {
            latest = snapshot;
        }

        PlanPrice? price = null;
        foreach (var item in latest.Items?.Data ?? [])
        {
            if (item.Price?.Id is { } priceId && catalog.TryGetPrice(priceId, out price))
            {
                break;
            }
        }

        var invoiceMetadata = invoice?.Parent?.SubscriptionDetails?.Metadata;
        var tenantId = latest.Metadata.GetValueOrDefault(MetadataKeys.TenantId) ?? invoiceMetadata?.GetValueOrDefault(MetadataKeys.TenantId);

        // The buyer kind is read from the metadata that names the user, so that the two always describe one buyer.
        var routing = latest.Metadata.ContainsKey(MetadataKeys.UserId) ? latest.Metadata
            : invoiceMetadata is not null && invoiceMetadata.ContainsKey(MetadataKeys.UserId) ? invoiceMetadata
            : null;
        if (routing is null && latest.Customer is { } customerId)
        {
            // A subscription made outside Checkout: the customer's metadata names the user.
            var customer = await stripe.GetCustomerAsync(customerId, stripeEvent.Account, cancellationToken).ConfigureAwait(false);
            routing = customer.Metadata;
            tenantId ??= customer.Metadata.GetValueOrDefault(MetadataKeys.TenantId);
        }

        var userId = routing?.GetValueOrDefault(MetadataKeys.UserId);
        var isGuest = routing?.GetValueOrDefault(MetadataKeys.Buyer) == "guest";
        return new SubscriptionChange(stripeEvent, reason, latest, invoice, price, userId, tenantId, isGuest);
    }
}
