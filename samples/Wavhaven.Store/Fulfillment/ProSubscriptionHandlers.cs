using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Fulfillment;

/// <summary>A paid Pro checkout: the account shows Pro at once, from the success page's sync or the webhook.</summary>
public sealed class ProCheckoutHandler(StoreDbContext db, TimeProvider time) : IFulfillmentHandler
{
    public const string FulfillmentType = "pro-subscription";

    public string Type => FulfillmentType;

    public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        if (context.UserId is null || context.Session.Subscription is null)
        {
            return;
        }

        var row = await db.ProSubscriptions.FindAsync([context.UserId], cancellationToken);
        if (row is null)
        {
            db.ProSubscriptions.Add(new ProSubscription
            {
                UserId = context.UserId,
                SubscriptionId = context.Session.Subscription,
                Interval = context.Metadata.GetValueOrDefault("interval"),
                Status = "active",
                UpdatedAt = time.GetUtcNow(),
            });
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}

/// <summary>
/// Keeps the account's Pro status in step with Stripe: plan switches, cancellations, renewals and failures.
/// Each change carries the subscription's latest state, so applying it in any order is safe.
/// </summary>
public sealed class ProSubscriptionHandler(StoreDbContext db, TimeProvider time) : ISubscriptionHandler
{
    public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
    {
        if (change.UserId is null || change.Plan?.Id != "pro")
        {
            return;
        }

        var row = await db.ProSubscriptions.FindAsync([change.UserId], cancellationToken);
        if (row is null)
        {
            row = new ProSubscription { UserId = change.UserId, SubscriptionId = change.SubscriptionId, Status = change.Status };
            db.ProSubscriptions.Add(row);
        }

        row.SubscriptionId = change.SubscriptionId;
        row.Interval = change.Price?.Interval.ToString().ToLowerInvariant();
        row.Status = change.Status;
        row.CurrentPeriodEnd = change.CurrentPeriodEnd;
        row.CancelAtPeriodEnd = change.CancelAtPeriodEnd;
        row.UpdatedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
    }
}
