using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A Checkout session and what the buyer did on its page.</summary>
internal sealed class CheckoutSession(string id, DateTimeOffset created) : Entity(id, created)
{
    public override string ObjectName => "checkout.session";

    public required string Mode { get; init; }

    public string Status { get; set; } = "open";

    public string PaymentStatus { get; set; } = "unpaid";

    public List<SessionLine> Lines { get; } = [];

    public string? CustomerId { get; set; }

    public string? CustomerEmail { get; init; }

    /// <summary>Gets or sets the email the buyer gave on the page, or, once the session is complete, the email it was completed with.</summary>
    public string? BuyerEmail { get; set; }

    /// <summary>Gets or sets the customer's name when the session was completed: <c>customer_details</c> is what the buyer paid with, not the customer's later state.</summary>
    public string? BuyerName { get; set; }

    public string? ClientReferenceId { get; init; }

    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> PaymentIntentMetadata { get; init; } = new(StringComparer.Ordinal);

    public string? PaymentIntentDescription { get; init; }

    public string? ReceiptEmail { get; init; }

    public Dictionary<string, string> SubscriptionMetadata { get; init; } = new(StringComparer.Ordinal);

    public long? TrialPeriodDays { get; init; }

    public string? SubscriptionDescription { get; init; }

    public string? SuccessUrl { get; init; }

    public string? CancelUrl { get; init; }

    public bool? AllowPromotionCodes { get; init; }

    public bool AutomaticTax { get; init; }

    public string? CustomerCreation { get; init; }

    public required DateTimeOffset ExpiresAt { get; init; }

    public string UiMode { get; init; } = "hosted_page";

    public string? Locale { get; init; }

    public string? PaymentIntentId { get; set; }

    public string? SubscriptionId { get; set; }

    public string? InvoiceId { get; set; }

    /// <summary>Gets or sets the decline message the page shows after a declined card.</summary>
    public string? LastError { get; set; }

    /// <summary>Gets or sets whether a delayed (bank debit) payment waits to be settled.</summary>
    public bool AwaitingAsyncPayment { get; set; }

    public string Currency => Lines.Count == 0 ? "usd" : Lines[0].Price.Currency;

    /// <summary>Gets what is due now: during a trial, recurring lines cost nothing today.</summary>
    public long AmountTotal => Lines.Where(line => TrialPeriodDays is null || !line.Price.IsRecurring).Sum(line => line.AmountTotal);

    public Uri Url(EmulatorStore store) => new(store.BaseUrl, "checkout/pay/" + Id);

    public override JsonObject ToJson(EmulatorStore store)
    {
        var detailsEmail = store.BuyerEmailOf(this);
        return new JsonObject
        {
            ["id"] = Id,
            ["object"] = ObjectName,
            ["adaptive_pricing"] = new JsonObject { ["enabled"] = false },
            ["after_expiration"] = null,
            ["allow_promotion_codes"] = AllowPromotionCodes,
            ["amount_subtotal"] = AmountTotal,
            ["amount_total"] = AmountTotal,
            ["automatic_tax"] = new JsonObject
            {
                ["enabled"] = AutomaticTax,
                ["liability"] = AutomaticTax ? new JsonObject { ["type"] = "self" } : null,
                ["provider"] = null,
                ["status"] = AutomaticTax ? (Status == "complete" ? "complete" : "requires_location_inputs") : null,
            },
            ["billing_address_collection"] = null,
            ["cancel_url"] = CancelUrl,
            ["client_reference_id"] = ClientReferenceId,
            ["client_secret"] = null,
            ["collected_information"] = null,
            ["consent"] = null,
            ["consent_collection"] = null,
            ["created"] = Created.Unix(),
            ["currency"] = Currency,
            ["custom_fields"] = new JsonArray(),
            ["customer"] = CustomerId,
            ["customer_account"] = null,
            ["customer_creation"] = CustomerCreation,
            ["customer_details"] = Status == "complete"
                ? new JsonObject
                {
                    ["address"] = null,
                    ["business_name"] = null,
                    ["email"] = detailsEmail,
                    ["individual_name"] = null,
                    ["name"] = BuyerName,
                    ["phone"] = null,
                    ["tax_exempt"] = "none",
                    ["tax_ids"] = new JsonArray(),
                }
                : null,
            ["customer_email"] = CustomerEmail,
            ["discounts"] = new JsonArray(),
            ["expires_at"] = ExpiresAt.Unix(),
            ["invoice"] = InvoiceId,
            ["invoice_creation"] = Mode == "payment" ? new JsonObject { ["enabled"] = false, ["invoice_data"] = null } : null,
            ["livemode"] = false,
            ["locale"] = Locale,
            ["metadata"] = Json.Metadata(Metadata),
            ["mode"] = Mode,
            ["payment_intent"] = PaymentIntentId,
            ["payment_link"] = null,
            ["payment_method_collection"] = Mode == "subscription" ? "always" : null,
            ["payment_status"] = PaymentStatus,
            ["recovered_from"] = null,
            ["setup_intent"] = null,
            ["shipping_address_collection"] = null,
            ["shipping_cost"] = null,
            ["status"] = Status,
            ["submit_type"] = null,
            ["subscription"] = SubscriptionId,
            ["success_url"] = SuccessUrl,
            ["total_details"] = new JsonObject { ["amount_discount"] = 0, ["amount_shipping"] = 0, ["amount_tax"] = 0 },
            ["ui_mode"] = UiMode,
            ["url"] = Status == "open" ? Url(store).ToString() : null,
        };
    }

    /// <summary>The session's lines as a Stripe list of <c>item</c> objects.</summary>
    public JsonObject LineItemsJson(EmulatorStore store, IReadOnlyList<SessionLine> lines, bool hasMore) =>
        Json.List("/v1/checkout/sessions/" + Id + "/line_items", lines.Select(line => (JsonNode)line.ToJson(store)), hasMore);
}

/// <summary>One line of a Checkout session (<c>item</c>).</summary>
internal sealed class SessionLine(string id, Price price, long quantity, string description)
{
    public string Id { get; } = id;

    public Price Price { get; } = price;

    public long Quantity { get; } = quantity;

    public string Description { get; } = description;

    public long AmountTotal => Price.UnitAmount * Quantity;

    public JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = "item",
        ["adjustable_quantity"] = null,
        ["amount_discount"] = 0,
        ["amount_subtotal"] = AmountTotal,
        ["amount_tax"] = 0,
        ["amount_total"] = AmountTotal,
        ["currency"] = Price.Currency,
        ["description"] = Description,
        ["metadata"] = new JsonObject(),
        ["price"] = Price.ToJson(store),
        ["quantity"] = Quantity,
    };
}
