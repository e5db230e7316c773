using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A subscription. Billing periods live on its items, as at the pinned API version.</summary>
internal sealed class Subscription(string id, DateTimeOffset created, string customerId) : Entity(id, created)
{
    public override string ObjectName => "subscription";

    public string CustomerId { get; } = customerId;

    public string Status { get; set; } = "active";

    public List<SubscriptionItem> Items { get; } = [];

    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    public string? Description { get; set; }

    public bool CancelAtPeriodEnd { get; set; }

    public DateTimeOffset? CancelAt { get; set; }

    public DateTimeOffset? CanceledAt { get; set; }

    public string? CancellationReason { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    public DateTimeOffset? TrialStart { get; set; }

    public DateTimeOffset? TrialEnd { get; set; }

    /// <summary>Gets or sets whether <c>customer.subscription.trial_will_end</c> was sent for the current trial.</summary>
    public bool TrialWillEndSent { get; set; }

    public DateTimeOffset BillingCycleAnchor { get; set; }

    public string? LatestInvoiceId { get; set; }

    /// <summary>Gets or sets whether the next renewal's payment is declined.</summary>
    public bool FailNextRenewal { get; set; }

    public bool IsEnded => Status is "canceled" or "incomplete_expired";

    public string Currency => Items.Count == 0 ? "usd" : Items[0].Price.Currency;

    /// <summary>Gets the end of the current period (all items share the billing cycle here).</summary>
    public DateTimeOffset CurrentPeriodEnd => Items.Count == 0 ? Created : Items.Min(item => item.CurrentPeriodEnd);

    public DateTimeOffset CurrentPeriodStart => Items.Count == 0 ? Created : Items.Min(item => item.CurrentPeriodStart);

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["application"] = null,
        ["application_fee_percent"] = null,
        ["automatic_tax"] = new JsonObject { ["disabled_reason"] = null, ["enabled"] = false, ["liability"] = null },
        ["billing_cycle_anchor"] = BillingCycleAnchor.Unix(),
        ["billing_cycle_anchor_config"] = null,
        ["billing_mode"] = new JsonObject { ["flexible"] = new JsonObject { ["proration_discounts"] = "included" }, ["type"] = "flexible", ["updated_at"] = null },
        ["billing_thresholds"] = null,
        ["cancel_at"] = CancelAt.Unix(),
        ["cancel_at_period_end"] = CancelAtPeriodEnd,
        ["canceled_at"] = CanceledAt.Unix(),
        ["cancellation_details"] = new JsonObject { ["comment"] = null, ["feedback"] = null, ["reason"] = CancellationReason },
        ["collection_method"] = "charge_automatically",
        ["created"] = Created.Unix(),
        ["currency"] = Currency,
        ["customer"] = CustomerId,
        ["customer_account"] = null,
        ["days_until_due"] = null,
        ["default_payment_method"] = null,
        ["default_source"] = null,
        ["default_tax_rates"] = new JsonArray(),
        ["description"] = Description,
        ["discounts"] = new JsonArray(),
        ["ended_at"] = EndedAt.Unix(),
        ["invoice_settings"] = new JsonObject { ["account_tax_ids"] = null, ["issuer"] = new JsonObject { ["type"] = "self" } },
        ["items"] = Json.List("/v1/subscription_items?subscription=" + Id, Items.Select(item => (JsonNode)item.ToJson(store, Id)), totalCount: true),
        ["latest_invoice"] = LatestInvoiceId,
        ["livemode"] = false,
        ["metadata"] = Json.Metadata(Metadata),
        ["next_pending_invoice_item_invoice"] = null,
        ["on_behalf_of"] = null,
        ["pause_collection"] = null,
        ["payment_settings"] = new JsonObject { ["payment_method_options"] = null, ["payment_method_types"] = null, ["save_default_payment_method"] = "off" },
        ["pending_invoice_item_interval"] = null,
        ["pending_setup_intent"] = null,
        ["pending_update"] = null,
        ["schedule"] = null,
        ["start_date"] = Created.Unix(),
        ["status"] = Status,
        ["test_clock"] = null,
        ["transfer_data"] = null,
        ["trial_end"] = TrialEnd.Unix(),
        ["trial_settings"] = new JsonObject { ["end_behavior"] = new JsonObject { ["missing_payment_method"] = "create_invoice" } },
        ["trial_start"] = TrialStart.Unix(),
    };
}

/// <summary>An item of a subscription, with its own billing period.</summary>
internal sealed class SubscriptionItem(string id, DateTimeOffset created, Price price, long quantity)
{
    public string Id { get; } = id;

    public DateTimeOffset Created { get; } = created;

    public Price Price { get; set; } = price;

    public long Quantity { get; set; } = quantity;

    public DateTimeOffset CurrentPeriodStart { get; set; }

    public DateTimeOffset CurrentPeriodEnd { get; set; }

    public long Amount => Price.UnitAmount * Quantity;

    public JsonObject ToJson(EmulatorStore store, string subscriptionId) => new()
    {
        ["id"] = Id,
        ["object"] = "subscription_item",
        ["billing_thresholds"] = null,
        ["created"] = Created.Unix(),
        ["current_period_end"] = CurrentPeriodEnd.Unix(),
        ["current_period_start"] = CurrentPeriodStart.Unix(),
        ["discounts"] = new JsonArray(),
        ["metadata"] = new JsonObject(),
        ["price"] = Price.ToJson(store),
        ["quantity"] = Quantity,
        ["subscription"] = subscriptionId,
        ["tax_rates"] = new JsonArray(),
    };
}
