using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A customer.</summary>
internal sealed class Customer(string id, DateTimeOffset created) : Entity(id, created)
{
    public override string ObjectName => "customer";

    public string? Email { get; set; }

    public string? Name { get; set; }

    public string? Phone { get; set; }

    public string? Description { get; set; }

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The fields of a customer's address, as Stripe names them.</summary>
    public static readonly string[] AddressFields = ["city", "country", "line1", "line2", "postal_code", "state"];

    /// <summary>Gets or sets the billing address's fields as given (<see cref="AddressFields"/>), or none.</summary>
    public Dictionary<string, string?>? Address { get; set; }

    public string InvoicePrefix { get; } = Ids.New(string.Empty, 8).ToUpperInvariant();

    public int NextInvoiceSequence { get; set; } = 1;

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["address"] = Address is null ? null : new JsonObject(AddressFields.Select(field => KeyValuePair.Create(field, (JsonNode?)Address.GetValueOrDefault(field)))),
        ["balance"] = 0,
        ["created"] = Created.Unix(),
        ["currency"] = null,
        ["default_source"] = null,
        ["delinquent"] = false,
        ["description"] = Description,
        ["discount"] = null,
        ["email"] = Email,
        ["invoice_prefix"] = InvoicePrefix,
        ["invoice_settings"] = new JsonObject
        {
            ["custom_fields"] = null,
            ["default_payment_method"] = null,
            ["footer"] = null,
            ["rendering_options"] = null,
        },
        ["livemode"] = false,
        ["metadata"] = Json.Metadata(Metadata),
        ["name"] = Name,
        ["next_invoice_sequence"] = NextInvoiceSequence,
        ["phone"] = Phone,
        ["preferred_locales"] = new JsonArray(),
        ["shipping"] = null,
        ["tax_exempt"] = "none",
        ["test_clock"] = null,
    };
}
