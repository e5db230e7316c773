using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A subscription's invoice. The subscription is named at <c>parent.subscription_details.subscription</c>.</summary>
internal sealed class Invoice(string id, DateTimeOffset created, string customerId) : Entity(id, created)
{
    public override string ObjectName => "invoice";

    public string CustomerId { get; } = customerId;

    public string? CustomerEmail { get; init; }

    public string? CustomerName { get; init; }

    public required string SubscriptionId { get; init; }

    /// <summary>Gets the subscription's metadata when the invoice was made.</summary>
    public required Dictionary<string, string> SubscriptionMetadata { get; init; }

    public required string BillingReason { get; init; }

    public required string Currency { get; init; }

    public string? Number { get; init; }

    public string Status { get; set; } = "draft";

    public List<InvoiceLine> Lines { get; } = [];

    public DateTimeOffset PeriodStart { get; init; }

    public DateTimeOffset PeriodEnd { get; init; }

    public int AttemptCount { get; set; }

    public DateTimeOffset? FinalizedAt { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    public long Total => Lines.Sum(line => line.Amount);

    public long AmountPaid => Status == "paid" ? Total : 0;

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["account_country"] = "US",
        ["account_name"] = "Stripe emulator",
        ["account_tax_ids"] = null,
        ["amount_due"] = Total,
        ["amount_overpaid"] = 0,
        ["amount_paid"] = AmountPaid,
        ["amount_remaining"] = Total - AmountPaid,
        ["amount_shipping"] = 0,
        ["application"] = null,
        ["attempt_count"] = AttemptCount,
        ["attempted"] = AttemptCount > 0,
        ["auto_advance"] = Status is "draft" or "open",
        ["automatic_tax"] = new JsonObject { ["disabled_reason"] = null, ["enabled"] = false, ["liability"] = null, ["provider"] = null, ["status"] = null },
        ["automatically_finalizes_at"] = null,
        ["billing_reason"] = BillingReason,
        ["collection_method"] = "charge_automatically",
        ["confirmation_secret"] = null,
        ["created"] = Created.Unix(),
        ["currency"] = Currency,
        ["custom_fields"] = null,
        ["customer"] = CustomerId,
        ["customer_account"] = null,
        ["customer_address"] = null,
        ["customer_email"] = CustomerEmail,
        ["customer_name"] = CustomerName,
        ["customer_phone"] = null,
        ["customer_shipping"] = null,
        ["customer_tax_exempt"] = "none",
        ["customer_tax_ids"] = new JsonArray(),
        ["default_payment_method"] = null,
        ["default_source"] = null,
        ["default_tax_rates"] = new JsonArray(),
        ["description"] = null,
        ["discounts"] = new JsonArray(),
        ["due_date"] = null,
        ["effective_at"] = FinalizedAt.Unix(),
        ["ending_balance"] = Status == "draft" ? null : 0,
        ["footer"] = null,
        ["from_invoice"] = null,
        ["hosted_invoice_url"] = null,
        ["invoice_pdf"] = null,
        ["issuer"] = new JsonObject { ["type"] = "self" },
        ["last_finalization_error"] = null,
        ["latest_revision"] = null,
        ["lines"] = Json.List("/v1/invoices/" + Id + "/lines", Lines.Select(line => (JsonNode)line.ToJson(Id)), totalCount: true),
        ["livemode"] = false,
        ["metadata"] = new JsonObject(),
        ["next_payment_attempt"] = null,
        ["number"] = Status == "draft" ? null : Number,
        ["on_behalf_of"] = null,
        ["parent"] = new JsonObject
        {
            ["quote_details"] = null,
            ["subscription_details"] = new JsonObject
            {
                ["metadata"] = Json.Metadata(SubscriptionMetadata),
                ["subscription"] = SubscriptionId,
            },
            ["type"] = "subscription_details",
        },
        ["period_end"] = PeriodEnd.Unix(),
        ["period_start"] = PeriodStart.Unix(),
        ["post_payment_credit_notes_amount"] = 0,
        ["pre_payment_credit_notes_amount"] = 0,
        ["receipt_number"] = null,
        ["starting_balance"] = 0,
        ["statement_descriptor"] = null,
        ["status"] = Status,
        ["status_transitions"] = new JsonObject
        {
            ["finalized_at"] = FinalizedAt.Unix(),
            ["marked_uncollectible_at"] = null,
            ["paid_at"] = PaidAt.Unix(),
            ["voided_at"] = null,
        },
        ["subtotal"] = Total,
        ["subtotal_excluding_tax"] = Total,
        ["test_clock"] = null,
        ["total"] = Total,
        ["total_discount_amounts"] = new JsonArray(),
        ["total_excluding_tax"] = Total,
        ["total_pretax_credit_amounts"] = new JsonArray(),
        ["total_taxes"] = new JsonArray(),
        ["webhooks_delivered_at"] = null,
    };
}

/// <summary>
/// A line of an invoice (<c>line_item</c>): one subscription item for a period, or (without a subscription item)
/// a one-time price bought with the subscription.
/// </summary>
internal sealed class InvoiceLine(string id, string subscriptionId, string? subscriptionItemId, Price price, long quantity, long amount, DateTimeOffset periodStart, DateTimeOffset periodEnd, string description, bool proration)
{
    public string Id { get; } = id;

    public long Amount { get; } = amount;

    public JsonObject ToJson(string invoiceId) => new()
    {
        ["id"] = Id,
        ["object"] = "line_item",
        ["amount"] = Amount,
        ["currency"] = price.Currency,
        ["description"] = description,
        ["discount_amounts"] = new JsonArray(),
        ["discountable"] = true,
        ["discounts"] = new JsonArray(),
        ["invoice"] = invoiceId,
        ["livemode"] = false,
        ["metadata"] = new JsonObject(),
        ["parent"] = subscriptionItemId is null
            ? new JsonObject
            {
                ["invoice_item_details"] = new JsonObject
                {
                    ["invoice_item"] = "ii_" + Id[3..],
                    ["proration"] = false,
                    ["proration_details"] = new JsonObject { ["credited_items"] = null },
                    ["subscription"] = subscriptionId,
                },
                ["subscription_item_details"] = null,
                ["type"] = "invoice_item_details",
            }
            : new JsonObject
            {
                ["invoice_item_details"] = null,
                ["subscription_item_details"] = new JsonObject
                {
                    ["invoice_item"] = null,
                    ["proration"] = proration,
                    ["proration_details"] = new JsonObject { ["credited_items"] = null },
                    ["subscription"] = subscriptionId,
                    ["subscription_item"] = subscriptionItemId,
                },
                ["type"] = "subscription_item_details",
            },
        ["period"] = new JsonObject { ["end"] = periodEnd.Unix(), ["start"] = periodStart.Unix() },
        ["pretax_credit_amounts"] = new JsonArray(),
        ["pricing"] = new JsonObject
        {
            ["price_details"] = new JsonObject { ["price"] = price.Id, ["product"] = price.ProductId },
            ["type"] = "price_details",
            ["unit_amount_decimal"] = price.UnitAmount.ToString(System.Globalization.CultureInfo.InvariantCulture),
        },
        ["quantity"] = quantity,
        ["subtotal"] = Amount,
        ["taxes"] = new JsonArray(),
    };
}
