using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Subscriptions;

/// <summary>What happened to a subscription.</summary>
public enum SubscriptionChangeReason
{
    /// <summary><c>customer.subscription.created</c>.</summary>
    Created,

    /// <summary><c>customer.subscription.updated</c>: plan, quantity, status or cancellation changed.</summary>
    Updated,

    /// <summary><c>customer.subscription.deleted</c>: the subscription ended.</summary>
    Deleted,

    /// <summary><c>customer.subscription.trial_will_end</c>: the trial ends in about three days.</summary>
    TrialWillEnd,

    /// <summary><c>invoice.paid</c>: a period was paid for (the first one, or a renewal).</summary>
    InvoicePaid,

    /// <summary><c>invoice.payment_failed</c>: a payment failed; the subscription may be past due.</summary>
    InvoicePaymentFailed,
}

/// <summary>
/// A subscription change, normalized: whose it is, which plan, and the subscription's state. The state is
/// the subscription's <b>latest</b>, fetched from Stripe when the event is handled, not the snapshot inside
/// the event: Stripe does not deliver events in order, and an old event must not move a subscription
/// backwards. <see cref="EventCreated"/> says when the triggering event happened.
/// </summary>
public sealed class SubscriptionChange
{
    internal SubscriptionChange(StripeEvent stripeEvent, SubscriptionChangeReason reason, StripeSubscription subscription, StripeInvoice? invoice, PlanPrice? price, string? userId, string? tenantId, bool isGuest)
    {
        Event = stripeEvent;
        Reason = reason;
        Subscription = subscription;
        Invoice = invoice;
        Price = price;
        UserId = userId;
        TenantId = tenantId;
        IsGuest = isGuest;
        var item = subscription.Items?.Data.FirstOrDefault(i => price is not null && i.Price?.Id is { } id && (id == price.TestPriceId || id == price.LivePriceId))
            ?? subscription.Items?.Data.FirstOrDefault();
        CurrentPeriodEnd = item?.CurrentPeriodEnd;
    }

    /// <summary>Gets the event that triggered the change.</summary>
    public StripeEvent Event { get; }

    /// <summary>Gets what happened.</summary>
    public SubscriptionChangeReason Reason { get; }

    /// <summary>Gets when the triggering event happened.</summary>
    public DateTimeOffset EventCreated => Event.Created;

    /// <summary>Gets the subscription's latest state.</summary>
    public StripeSubscription Subscription { get; }

    /// <summary>Gets the invoice, for <see cref="SubscriptionChangeReason.InvoicePaid"/> and <see cref="SubscriptionChangeReason.InvoicePaymentFailed"/>.</summary>
    public StripeInvoice? Invoice { get; }

    /// <summary>Gets the subscription id.</summary>
    public string SubscriptionId => Subscription.Id;

    /// <summary>Gets the Stripe customer id.</summary>
    public string? CustomerId => Subscription.Customer;

    /// <summary>
    /// Gets the app's user id, from the routing metadata written at checkout (or the customer's metadata). For a guest's
    /// subscription (<see cref="IsGuest"/>) it is the id the app gave the guest (an order, cart or guest-account id), which
    /// may equal a registered user's id: check <see cref="IsGuest"/> before matching it to an account.
    /// </summary>
    public string? UserId { get; }

    /// <summary>
    /// Gets whether a guest bought the subscription (<c>CheckoutBuyer.Guest</c>): the <c>wavhaven_buyer</c> key that
    /// checkout writes on the subscription says <c>guest</c>, read from the same metadata as <see cref="UserId"/> (the
    /// subscription's, the invoice's snapshot of it, or the customer's). <see langword="false"/> when that metadata lacks
    /// the key: a subscription made outside Checkout for a customer of a registered user (the library creates customers
    /// for registered buyers only), or one that names no user at all (<see cref="UserId"/> is <see langword="null"/>). An app
    /// that hands a guest's subscription to an account by rewriting its <c>wavhaven_user_id</c> sets <c>wavhaven_buyer</c>
    /// to <c>registered</c> (or removes it) in the same update.
    /// </summary>
    public bool IsGuest { get; }

    /// <summary>Gets the app's tenant id, if the checkout had one.</summary>
    public string? TenantId { get; }

    /// <summary>Gets the connected account (Connect platforms), or <see langword="null"/>.</summary>
    public string? Account => Event.Account;

    /// <summary>Gets the catalog price the subscription is on, or <see langword="null"/> if its price is not in the catalog.</summary>
    public PlanPrice? Price { get; }

    /// <summary>Gets the catalog plan the subscription is on, or <see langword="null"/>.</summary>
    public Plan? Plan => Price?.Plan;

    /// <summary>Gets the status: <c>trialing</c>, <c>active</c>, <c>past_due</c>, <c>canceled</c>, <c>unpaid</c>, <c>incomplete</c>, <c>incomplete_expired</c> or <c>paused</c>.</summary>
    public string Status => Subscription.Status ?? string.Empty;

    /// <summary>Gets whether the subscription currently entitles its owner (status <c>active</c> or <c>trialing</c>).</summary>
    public bool IsActive => Status is "active" or "trialing";

    /// <summary>Gets when the current billing period ends.</summary>
    public DateTimeOffset? CurrentPeriodEnd { get; }

    /// <summary>
    /// Gets whether the subscription ends at the end of the current period: <c>cancel_at_period_end</c>, or a
    /// <c>cancel_at</c> no later than the period's end, which is how Stripe records a period-end cancellation of a
    /// subscription in flexible billing mode (the default since 2025-09-30, Checkout's included) made in the portal.
    /// </summary>
    public bool CancelAtPeriodEnd => Subscription.CancelAtPeriodEnd
        || (CancelAt is { } cancelAt && Subscription.Items?.Data.Max(item => item.CurrentPeriodEnd) is { } periodEnd && cancelAt <= periodEnd);

    /// <summary>Gets when the subscription is set to end, if it is.</summary>
    public DateTimeOffset? CancelAt => Subscription.CancelAt;
}
