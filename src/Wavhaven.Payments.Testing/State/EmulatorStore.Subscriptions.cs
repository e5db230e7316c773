namespace Wavhaven.Payments.Testing.State;

/// <summary>One change to a subscription's items (<c>items[i]</c>).</summary>
/// <param name="Id">The item to change, or <see langword="null"/> to add one.</param>
/// <param name="Price">The new price.</param>
/// <param name="Quantity">The new quantity.</param>
/// <param name="Deleted">Whether to remove the item.</param>
/// <param name="Param">The parameter, for errors (<c>items[0]</c>).</param>
internal sealed record ItemChange(string? Id, Price? Price, long? Quantity, bool Deleted, string Param);

/// <summary>A change to a subscription, from the API or the portal.</summary>
internal sealed class SubscriptionChange
{
    public List<ItemChange> Items { get; } = [];

    public string ProrationBehavior { get; init; } = "create_prorations";

    public bool? CancelAtPeriodEnd { get; init; }

    /// <summary>
    /// Gets whether to schedule (or, false, undo) the end at the current period's end as the portal does in flexible billing
    /// mode: <c>cancel_at</c> set to the period end, <c>cancel_at_period_end</c> left false.
    /// </summary>
    public bool? CancelAtCurrentPeriodEnd { get; init; }

    public Action<Dictionary<string, string>>? ApplyMetadata { get; init; }

    public bool OnlyMetadata => Items.Count == 0 && CancelAtPeriodEnd is null && CancelAtCurrentPeriodEnd is null;
}

/// <summary>
/// Subscriptions: creation from Checkout, updates, cancellation, and what the clock does to them. A renewal
/// emits <c>invoice.created</c>, <c>invoice.finalized</c>, <c>invoice.paid</c>, <c>invoice.payment_succeeded</c>,
/// then <c>customer.subscription.updated</c> with the new period; a failed renewal emits <c>invoice.created</c>,
/// <c>invoice.finalized</c>, <c>invoice.payment_failed</c>, then <c>customer.subscription.updated</c> (past_due).
/// A subscription set to cancel at period end ends there with <c>customer.subscription.deleted</c>.
/// </summary>
internal sealed partial class EmulatorStore
{
    private Subscription CreateSubscription(CheckoutSession session, Customer customer)
    {
        var now = Now;
        var subscription = Add(new Subscription(Ids.New("sub_"), now, customer.Id)
        {
            Metadata = new(session.SubscriptionMetadata, StringComparer.Ordinal),
            Description = session.SubscriptionDescription,
            BillingCycleAnchor = now,
        });

        DateTimeOffset? trialEnd = session.TrialPeriodDays is { } days ? now.AddDays(days) : null;
        if (trialEnd is not null)
        {
            subscription.Status = "trialing";
            subscription.TrialStart = now;
            subscription.TrialEnd = trialEnd;
            subscription.BillingCycleAnchor = trialEnd.Value;
        }

        foreach (var line in session.Lines.Where(line => line.Price.IsRecurring))
        {
            subscription.Items.Add(new SubscriptionItem(Ids.New("si_"), now, line.Price, line.Quantity)
            {
                CurrentPeriodStart = now,
                CurrentPeriodEnd = trialEnd ?? line.Price.AddInterval(now),
            });
        }

        return subscription;
    }

    private Invoice CreateFirstInvoice(CheckoutSession session, Subscription subscription, Customer customer)
    {
        var trial = subscription.Status == "trialing";
        var invoice = NewInvoice(subscription, customer, "subscription_create", subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd);
        foreach (var item in subscription.Items)
        {
            invoice.Lines.Add(ItemLine(subscription, item, trial ? 0 : item.Amount, item.CurrentPeriodStart, item.CurrentPeriodEnd, proration: false, trial ? "Trial period for " : null));
        }

        foreach (var line in session.Lines.Where(line => !line.Price.IsRecurring))
        {
            invoice.Lines.Add(new InvoiceLine(Ids.New("il_"), subscription.Id, null, line.Price, line.Quantity, line.AmountTotal, Now, Now, line.Quantity + " × " + line.Description, proration: false));
        }

        return invoice;
    }

    private Invoice NewInvoice(Subscription subscription, Customer? customer, string billingReason, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        customer ??= Find<Customer>(subscription.CustomerId);
        var number = customer is null ? null : customer.InvoicePrefix + "-" + customer.NextInvoiceSequence++.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
        return Add(new Invoice(Ids.New("in_"), Now, subscription.CustomerId)
        {
            CustomerEmail = customer?.Email,
            CustomerName = customer?.Name,
            SubscriptionId = subscription.Id,
            SubscriptionMetadata = new(subscription.Metadata, StringComparer.Ordinal),
            BillingReason = billingReason,
            Currency = subscription.Currency,
            Number = number,
            PeriodStart = periodStart,
            PeriodEnd = periodEnd,
        });
    }

    private InvoiceLine ItemLine(Subscription subscription, SubscriptionItem item, long amount, DateTimeOffset start, DateTimeOffset end, bool proration, string? prefix = null)
    {
        var product = Find<Product>(item.Price.ProductId)?.Name ?? item.Price.ProductId;
        var description = prefix is not null
            ? prefix + product
            : item.Quantity + " × " + product + " (at " + Money.Describe(item.Price) + ")";
        return new InvoiceLine(Ids.New("il_"), subscription.Id, item.Id, item.Price, item.Quantity, amount, start, end, description, proration);
    }

    private void Finalize(Invoice invoice)
    {
        invoice.Status = "open";
        invoice.FinalizedAt = Now;
        Emit("invoice.finalized", invoice, RequestInfo.Automatic);
    }

    private void MarkPaid(Invoice invoice)
    {
        invoice.AttemptCount++;
        invoice.Status = "paid";
        invoice.PaidAt = Now;
        Emit("invoice.paid", invoice, RequestInfo.Automatic);
        Emit("invoice.payment_succeeded", invoice, RequestInfo.Automatic);
    }

    private void FailPayment(Invoice invoice)
    {
        invoice.AttemptCount++;
        Emit("invoice.payment_failed", invoice, RequestInfo.Automatic);
    }

    /// <summary>The period ended: bill the next one (the first after a trial, too).</summary>
    private void Renew(Subscription subscription)
    {
        var before = subscription.ToJson(this);
        foreach (var item in subscription.Items)
        {
            item.CurrentPeriodStart = item.CurrentPeriodEnd;
            item.CurrentPeriodEnd = item.Price.NextPeriodEnd(subscription.BillingCycleAnchor, item.CurrentPeriodStart);
        }

        var invoice = NewInvoice(subscription, null, "subscription_cycle", subscription.CurrentPeriodStart, subscription.CurrentPeriodEnd);
        foreach (var item in subscription.Items)
        {
            invoice.Lines.Add(ItemLine(subscription, item, item.Amount, item.CurrentPeriodStart, item.CurrentPeriodEnd, proration: false));
        }

        subscription.LatestInvoiceId = invoice.Id;
        Emit("invoice.created", invoice, RequestInfo.Automatic);
        Finalize(invoice);
        if (subscription.FailNextRenewal)
        {
            subscription.FailNextRenewal = false;
            FailPayment(invoice);
            subscription.Status = "past_due";
        }
        else
        {
            MarkPaid(invoice);
            subscription.Status = "active";
        }

        Emit("customer.subscription.updated", subscription, RequestInfo.Automatic, Json.Diff(before, subscription.ToJson(this)));
    }

    private void EndAtPeriodEnd(Subscription subscription)
    {
        subscription.Status = "canceled";
        subscription.EndedAt = Now;
        subscription.CancellationReason = "cancellation_requested";
        Emit("customer.subscription.deleted", subscription, RequestInfo.Automatic);
    }

    /// <summary>Cancels at once (<c>DELETE /v1/subscriptions/{id}</c>).</summary>
    public void CancelNow(Subscription subscription, RequestInfo request)
    {
        if (subscription.IsEnded)
        {
            throw Api.ApiException.InvalidRequest($"Subscription {subscription.Id} is already canceled.", "subscription");
        }

        subscription.Status = "canceled";
        subscription.CanceledAt = Now;
        subscription.EndedAt = Now;
        subscription.CancellationReason = "cancellation_requested";
        Emit("customer.subscription.deleted", subscription, request);
    }

    /// <summary>
    /// Applies a change and emits <c>customer.subscription.updated</c> with <c>previous_attributes</c> when
    /// anything changed. A price change is invoiced at once (<c>billing_reason</c> <c>subscription_update</c>,
    /// then <c>invoice.created</c>, <c>invoice.finalized</c>, <c>invoice.paid</c>, <c>invoice.payment_succeeded</c>)
    /// when the billing interval changes (the period restarts now, unused time credited unless
    /// <c>proration_behavior=none</c>) or with <c>proration_behavior=always_invoice</c> (the prorated difference).
    /// With <c>create_prorations</c> the difference is not billed here (Stripe would add it to the next invoice).
    /// </summary>
    public void UpdateSubscription(Subscription subscription, SubscriptionChange change, RequestInfo request)
    {
        if (subscription.IsEnded && !change.OnlyMetadata)
        {
            throw Api.ApiException.InvalidRequest("A canceled subscription can only update its cancellation_details and metadata.", change.Items.Count > 0 ? "items" : "cancel_at_period_end");
        }

        // Metadata is applied last but checked first, on a copy: a refused update changes nothing.
        change.ApplyMetadata?.Invoke(new Dictionary<string, string>(subscription.Metadata, StringComparer.Ordinal));
        var now = Now;
        var before = subscription.ToJson(this);
        var periodStart = subscription.CurrentPeriodStart;
        var periodEnd = subscription.CurrentPeriodEnd;
        var saved = subscription.Items.Select(item => (Item: item, item.Price, item.Quantity)).ToList();
        List<(SubscriptionItem Item, long OldAmount, Price? OldPrice)> changed;
        try
        {
            changed = ApplyItemChanges(subscription, change, now, periodStart, periodEnd);
            ValidateItems(subscription, change);
        }
        catch (Api.ApiException)
        {
            // A refused update changes nothing.
            subscription.Items.Clear();
            foreach (var (item, price, quantity) in saved)
            {
                item.Price = price;
                item.Quantity = quantity;
                subscription.Items.Add(item);
            }

            throw;
        }

        var intervalChanged = changed.Any(entry => entry.OldPrice is { } old && (old.Interval != entry.Item.Price.Interval || old.IntervalCount != entry.Item.Price.IntervalCount));
        var trialing = subscription.Status == "trialing";
        if (intervalChanged && !trialing)
        {
            foreach (var item in subscription.Items)
            {
                item.CurrentPeriodStart = now;
                item.CurrentPeriodEnd = item.Price.AddInterval(now);
            }

            subscription.BillingCycleAnchor = now;
        }

        if (change.CancelAtPeriodEnd is { } cancel)
        {
            subscription.CancelAtPeriodEnd = cancel;
            subscription.CanceledAt = cancel ? now : null;
            subscription.CancellationReason = cancel ? "cancellation_requested" : null;
        }

        if (change.CancelAtCurrentPeriodEnd is { } end)
        {
            subscription.CancelAtPeriodEnd = false;
            subscription.CancelAt = end ? subscription.CurrentPeriodEnd : null;
            subscription.CanceledAt = end ? now : null;
            subscription.CancellationReason = end ? "cancellation_requested" : null;
        }

        // Set to end at its period's end, it ends at the new one when an interval switch moved it, as Stripe's does; a
        // cancel_at is a timestamp, which item changes leave alone.
        subscription.CancelAt = subscription.CancelAtPeriodEnd ? subscription.CurrentPeriodEnd
            : change.CancelAtPeriodEnd == false ? null
            : subscription.CancelAt;

        change.ApplyMetadata?.Invoke(subscription.Metadata);

        Invoice? invoice = null;
        if (!trialing && changed.Count > 0 && (intervalChanged || change.ProrationBehavior == "always_invoice"))
        {
            invoice = NewInvoice(subscription, null, "subscription_update", now, subscription.CurrentPeriodEnd);
            foreach (var (item, oldAmount, _) in changed)
            {
                var amount = intervalChanged
                    ? item.Amount - (change.ProrationBehavior == "none" ? 0 : Prorate(oldAmount, periodStart, periodEnd, now))
                    : Prorate(item.Amount - oldAmount, periodStart, periodEnd, now);
                invoice.Lines.Add(ItemLine(subscription, item, Math.Max(0, amount), now, item.CurrentPeriodEnd, proration: !intervalChanged));
            }

            subscription.LatestInvoiceId = invoice.Id;
        }

        var previous = Json.Diff(before, subscription.ToJson(this));
        if (previous is not null)
        {
            Emit("customer.subscription.updated", subscription, request, previous);
        }

        if (invoice is not null)
        {
            Emit("invoice.created", invoice, request);
            Finalize(invoice);
            MarkPaid(invoice);
        }
    }

    private static List<(SubscriptionItem Item, long OldAmount, Price? OldPrice)> ApplyItemChanges(Subscription subscription, SubscriptionChange change, DateTimeOffset now, DateTimeOffset periodStart, DateTimeOffset periodEnd)
    {
        var changed = new List<(SubscriptionItem Item, long OldAmount, Price? OldPrice)>();
        foreach (var itemChange in change.Items)
        {
            if (itemChange.Id is null)
            {
                if (itemChange.Price is null)
                {
                    throw Api.ApiException.Missing(itemChange.Param + "[price]");
                }

                var added = new SubscriptionItem(Ids.New("si_"), now, itemChange.Price, itemChange.Quantity ?? 1)
                {
                    CurrentPeriodStart = periodStart,
                    CurrentPeriodEnd = periodEnd,
                };
                subscription.Items.Add(added);
                changed.Add((added, 0, null));
                continue;
            }

            var item = subscription.Items.Find(candidate => candidate.Id == itemChange.Id)
                ?? throw Api.ApiException.InvalidRequest($"No such subscription item: '{itemChange.Id}'", itemChange.Param + "[id]", "resource_missing");
            if (itemChange.Deleted)
            {
                subscription.Items.Remove(item);
                continue;
            }

            var (oldAmount, oldPrice, oldQuantity) = (item.Amount, item.Price, item.Quantity);
            item.Price = itemChange.Price ?? item.Price;
            item.Quantity = itemChange.Quantity ?? item.Quantity;
            if (item.Price != oldPrice || item.Quantity != oldQuantity)
            {
                changed.Add((item, oldAmount, oldPrice));
            }
        }

        return changed;
    }

    private static void ValidateItems(Subscription subscription, SubscriptionChange change)
    {
        if (subscription.Items.Count == 0)
        {
            throw Api.ApiException.InvalidRequest("A subscription needs at least one item; delete the subscription instead of deleting its last item.", "items");
        }

        var first = subscription.Items[0].Price;
        foreach (var item in subscription.Items)
        {
            var param = change.Items.FirstOrDefault(itemChange => itemChange.Price == item.Price)?.Param + "[price]";
            if (!item.Price.IsRecurring)
            {
                throw Api.ApiException.InvalidRequest($"The price specified ({item.Price.Id}) is set to `type=one_time` but this field only accepts prices with `type=recurring`.", param);
            }

            if (item.Price.Currency != first.Currency || item.Price.Interval != first.Interval || item.Price.IntervalCount != first.IntervalCount)
            {
                throw Api.ApiException.InvalidRequest("Currency and interval fields must match across all plans on this subscription.", param);
            }
        }
    }

    private static long Prorate(long amount, DateTimeOffset start, DateTimeOffset end, DateTimeOffset now)
    {
        var total = (end - start).TotalSeconds;
        if (total <= 0)
        {
            return 0;
        }

        var remaining = Math.Clamp((end - now).TotalSeconds, 0, total);
        return (long)Math.Round(amount * remaining / total, MidpointRounding.AwayFromZero);
    }
}
