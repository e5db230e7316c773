using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A payment intent, made when the buyer pays a payment-mode Checkout session.</summary>
internal sealed class PaymentIntent(string id, DateTimeOffset created, long amount, string currency) : Entity(id, created)
{
    public override string ObjectName => "payment_intent";

    public long Amount { get; } = amount;

    public string Currency { get; } = currency;

    public string? CustomerId { get; set; }

    public Dictionary<string, string> Metadata { get; init; } = new(StringComparer.Ordinal);

    public string? Description { get; init; }

    public string? ReceiptEmail { get; init; }

    public string Status { get; set; } = "requires_payment_method";

    public string? LatestChargeId { get; set; }

    public string? PaymentMethodId { get; set; }

    public string? PaymentMethodType { get; set; }

    /// <summary>Gets or sets when the intent was cancelled (its session expired).</summary>
    public DateTimeOffset? CanceledAt { get; set; }

    public string? CancellationReason { get; set; }

    /// <summary>Gets or sets the last decline: (code, decline code, message).</summary>
    public (string Code, string DeclineCode, string Message)? LastError { get; set; }

    public string ClientSecret { get; } = id + "_secret_" + Ids.New(string.Empty, 25);

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["amount"] = Amount,
        ["amount_capturable"] = 0,
        ["amount_details"] = new JsonObject { ["tip"] = new JsonObject() },
        ["amount_received"] = Status == "succeeded" ? Amount : 0,
        ["application"] = null,
        ["application_fee_amount"] = null,
        ["automatic_payment_methods"] = null,
        ["canceled_at"] = CanceledAt.Unix(),
        ["cancellation_reason"] = CancellationReason,
        ["capture_method"] = "automatic",
        ["client_secret"] = ClientSecret,
        ["confirmation_method"] = "automatic",
        ["created"] = Created.Unix(),
        ["currency"] = Currency,
        ["customer"] = CustomerId,
        ["customer_account"] = null,
        ["description"] = Description,
        ["excluded_payment_method_types"] = null,
        ["last_payment_error"] = LastError is { } error
            ? new JsonObject
            {
                ["code"] = error.Code,
                ["decline_code"] = error.DeclineCode,
                ["message"] = error.Message,
                ["type"] = "card_error",
            }
            : null,
        ["latest_charge"] = LatestChargeId,
        ["livemode"] = false,
        ["metadata"] = Json.Metadata(Metadata),
        ["next_action"] = null,
        ["on_behalf_of"] = null,
        ["payment_method"] = PaymentMethodId,
        ["payment_method_configuration_details"] = null,
        ["payment_method_options"] = new JsonObject(),
        ["processing"] = Status == "processing" ? new JsonObject { ["type"] = PaymentMethodType } : null,
        ["receipt_email"] = ReceiptEmail,
        ["review"] = null,
        ["setup_future_usage"] = null,
        ["shipping"] = null,
        ["source"] = null,
        ["statement_descriptor"] = null,
        ["statement_descriptor_suffix"] = null,
        ["status"] = Status,
        ["transfer_data"] = null,
        ["transfer_group"] = null,
    };
}

/// <summary>A charge: one attempt to collect a payment intent.</summary>
internal sealed class Charge(string id, DateTimeOffset created, PaymentIntent intent, string paymentMethodType) : Entity(id, created)
{
    public override string ObjectName => "charge";

    public PaymentIntent Intent { get; } = intent;

    public string Status { get; set; } = "pending";

    public string? BillingEmail { get; init; }

    public (string Code, string DeclineCode, string Message)? Failure { get; set; }

    public string BalanceTransaction { get; } = Ids.New("txn_");

    public override JsonObject ToJson(EmulatorStore store)
    {
        var isCard = paymentMethodType == "card";
        return new JsonObject
        {
            ["id"] = Id,
            ["object"] = ObjectName,
            ["amount"] = Intent.Amount,
            ["amount_captured"] = Status == "succeeded" ? Intent.Amount : 0,
            ["amount_refunded"] = 0,
            ["application"] = null,
            ["application_fee"] = null,
            ["application_fee_amount"] = null,
            ["balance_transaction"] = Status == "succeeded" ? BalanceTransaction : null,
            ["billing_details"] = new JsonObject { ["address"] = null, ["email"] = BillingEmail, ["name"] = null, ["phone"] = null, ["tax_id"] = null },
            ["calculated_statement_descriptor"] = "STRIPE EMULATOR",
            ["captured"] = Status == "succeeded",
            ["created"] = Created.Unix(),
            ["currency"] = Intent.Currency,
            ["customer"] = Intent.CustomerId,
            ["description"] = Intent.Description,
            ["disputed"] = false,
            ["failure_balance_transaction"] = null,
            ["failure_code"] = Failure?.Code,
            ["failure_message"] = Failure?.Message,
            ["fraud_details"] = new JsonObject(),
            ["livemode"] = false,
            ["metadata"] = Json.Metadata(Intent.Metadata),
            ["on_behalf_of"] = null,
            ["outcome"] = Status == "pending"
                ? null
                : new JsonObject
                {
                    ["network_status"] = Failure is null ? "approved_by_network" : "declined_by_network",
                    ["reason"] = Failure?.DeclineCode,
                    ["risk_level"] = "normal",
                    ["seller_message"] = Failure is null ? "Payment complete." : "The bank did not return any further details with this decline.",
                    ["type"] = Failure is null ? "authorized" : "issuer_declined",
                },
            ["paid"] = Status == "succeeded",
            ["payment_intent"] = Intent.Id,
            ["payment_method"] = Intent.PaymentMethodId,
            ["payment_method_details"] = isCard
                ? new JsonObject
                {
                    ["card"] = new JsonObject
                    {
                        ["brand"] = "visa",
                        ["country"] = "US",
                        ["exp_month"] = 12,
                        ["exp_year"] = Created.Year + 3,
                        ["funding"] = "credit",
                        ["last4"] = Failure is null ? "4242" : "0002",
                        ["network"] = "visa",
                    },
                    ["type"] = "card",
                }
                : new JsonObject
                {
                    [paymentMethodType] = new JsonObject { ["bank_code"] = "37040044", ["country"] = "DE", ["last4"] = "3000" },
                    ["type"] = paymentMethodType,
                },
            ["receipt_email"] = Intent.ReceiptEmail,
            ["receipt_number"] = null,
            ["receipt_url"] = null,
            ["refunded"] = false,
            ["review"] = null,
            ["shipping"] = null,
            ["source_transfer"] = null,
            ["statement_descriptor"] = null,
            ["statement_descriptor_suffix"] = null,
            ["status"] = Status,
            ["transfer_data"] = null,
            ["transfer_group"] = null,
        };
    }
}
