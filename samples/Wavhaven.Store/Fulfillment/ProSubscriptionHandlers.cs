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
        if (context.IsGuest || context.UserId is not { } userId || context.Session.Subscription is not { } subscriptionId)
        {
            return; // a guest's user id is the one its app gave the guest, which may equal a member's: not an account
        }

        // Paid: the user's next Pro checkout (after this subscription ends) has no earlier one to expire.
        await db.Users.Where(user => user.Id == userId && user.ProCheckoutSessionId == context.SessionId)
            .ExecuteUpdateAsync(set => set.SetProperty(user => user.ProCheckoutSessionId, (string?)null), cancellationToken);

        // The subscription's own events may have recorded it already; they carry the fuller state, so keep theirs. A row
        // of an earlier subscription that has ended gives way: the user has subscribed again.
        await ProSubscriptions.UpsertAsync(db, userId, subscriptionId, time, (row, inserted) =>
        {
            if (!inserted && (row.SubscriptionId == subscriptionId || row.IsActive))
            {
                return false;
            }

            row.SubscriptionId = subscriptionId;
            row.Interval = context.Metadata.GetValueOrDefault("interval");
            row.Status = "active";
            row.CurrentPeriodEnd = null;
            row.CancelAtPeriodEnd = false;
            return true;
        }, cancellationToken);
    }
}

/// <summary>
/// Keeps the account's Pro status in step with Stripe: plan switches, cancellations, renewals and failures.
/// Each change carries its subscription's latest state, so applying it in any order is safe for that subscription;
/// a user who cancelled and subscribed again has two, and the old one's late events must not overwrite the new one's.
/// </summary>
public sealed class ProSubscriptionHandler(StoreDbContext db, TimeProvider time) : ISubscriptionHandler
{
    public async Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken)
    {
        if (change.IsGuest || change.UserId is not { } userId || change.Plan?.Id != "pro")
        {
            return; // a guest's (its user id may equal a member's), or not Pro
        }

        await ProSubscriptions.UpsertAsync(db, userId, change.SubscriptionId, time, (row, _) =>
        {
            if (row.SubscriptionId != change.SubscriptionId && !change.IsActive)
            {
                return false; // a subscription the user has since replaced: not the account's state
            }

            row.SubscriptionId = change.SubscriptionId;
            row.Interval = change.Price?.Interval.ToString().ToLowerInvariant();
            row.Status = change.Status;
            row.CurrentPeriodEnd = change.CurrentPeriodEnd;
            row.CancelAtPeriodEnd = change.CancelAtPeriodEnd;
            return true;
        }, cancellationToken);
    }
}

/// <summary>One row per user, written by two handlers that may run at the same moment (the success page and a webhook).</summary>
internal static class ProSubscriptions
{
    /// <summary>
    /// Inserts the user's row, or updates it when <paramref name="apply"/> agrees (it is told whether the row is new, and
    /// returns false to leave it as it is). A concurrent insert by the other handler is caught by the primary key and
    /// retried as an update.
    /// </summary>
    public static async Task UpsertAsync(StoreDbContext db, string userId, string subscriptionId, TimeProvider time, Func<ProSubscription, bool, bool> apply, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var row = await db.ProSubscriptions.FindAsync([userId], cancellationToken);
            var inserted = row is null;
            if (row is null)
            {
                row = new ProSubscription { UserId = userId, SubscriptionId = subscriptionId, Status = "incomplete" };
                db.ProSubscriptions.Add(row);
            }

            if (!apply(row, inserted))
            {
                return;
            }

            row.UpdatedAt = time.GetUtcNow();
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                // The other handler inserted the row first: forget ours and go again.
                db.ChangeTracker.Clear();
            }
        }
    }
}
