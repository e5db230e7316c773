using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>A product: one per catalog plan, or one per <c>price_data[product_data]</c> line.</summary>
internal sealed class Product(string id, DateTimeOffset created, string name) : Entity(id, created)
{
    public override string ObjectName => "product";

    public string Name { get; set; } = name;

    public string? Description { get; set; }

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public string? DefaultPrice { get; set; }

    public bool Active { get; set; } = true;

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["active"] = Active,
        ["created"] = Created.Unix(),
        ["default_price"] = DefaultPrice,
        ["description"] = Description,
        ["images"] = new JsonArray(),
        ["livemode"] = false,
        ["marketing_features"] = new JsonArray(),
        ["metadata"] = Json.Metadata(Metadata),
        ["name"] = Name,
        ["package_dimensions"] = null,
        ["shippable"] = null,
        ["statement_descriptor"] = null,
        ["tax_code"] = null,
        ["type"] = "service",
        ["unit_label"] = null,
        ["updated"] = Created.Unix(),
        ["url"] = null,
    };
}

/// <summary>A price: seeded from the catalog (its id is the plan's test price id) or made from <c>price_data</c>.</summary>
internal sealed class Price(string id, DateTimeOffset created, string productId, string currency, long unitAmount, string? interval) : Entity(id, created)
{
    public override string ObjectName => "price";

    public string ProductId { get; } = productId;

    public string Currency { get; } = currency;

    public long UnitAmount { get; } = unitAmount;

    /// <summary>Gets <c>day</c>, <c>week</c>, <c>month</c> or <c>year</c>, or <see langword="null"/> for a one-time price.</summary>
    public string? Interval { get; } = interval;

    public long IntervalCount { get; init; } = 1;

    public bool IsRecurring => Interval is not null;

    public bool Active { get; set; } = true;

    /// <summary>Gets whether the price came from the catalog (offered on the portal), not from a checkout's <c>price_data</c>.</summary>
    public bool FromCatalog { get; init; }

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>Adds one interval of this price to <paramref name="start"/>.</summary>
    public DateTimeOffset AddInterval(DateTimeOffset start) => Interval switch
    {
        "day" => start.AddDays(IntervalCount),
        "week" => start.AddDays(7 * IntervalCount),
        "month" => start.AddMonths((int)IntervalCount),
        "year" => start.AddYears((int)IntervalCount),
        _ => start,
    };

    /// <summary>
    /// The end of the period that starts at <paramref name="start"/> on the cycle of <paramref name="anchor"/>: as at Stripe,
    /// a monthly or yearly period ends on the anchor's day, or on the month's last day when it has no such day, so that a
    /// subscription anchored on the 31st bills on Feb 28, then Mar 31 (not on the 28th for good).
    /// </summary>
    public DateTimeOffset NextPeriodEnd(DateTimeOffset anchor, DateTimeOffset start)
    {
        if (Interval is not ("month" or "year") || anchor > start)
        {
            return AddInterval(start);
        }

        for (var periods = 1; ; periods++)
        {
            var end = Interval == "month" ? anchor.AddMonths((int)(periods * IntervalCount)) : anchor.AddYears((int)(periods * IntervalCount));
            if (end > start)
            {
                return end;
            }
        }
    }

    public override JsonObject ToJson(EmulatorStore store) => new()
    {
        ["id"] = Id,
        ["object"] = ObjectName,
        ["active"] = Active,
        ["billing_scheme"] = "per_unit",
        ["created"] = Created.Unix(),
        ["currency"] = Currency,
        ["custom_unit_amount"] = null,
        ["livemode"] = false,
        ["lookup_key"] = null,
        ["metadata"] = Json.Metadata(Metadata),
        ["nickname"] = null,
        ["product"] = ProductId,
        ["recurring"] = Interval is null
            ? null
            : new JsonObject
            {
                ["interval"] = Interval,
                ["interval_count"] = IntervalCount,
                ["meter"] = null,
                ["trial_period_days"] = null,
                ["usage_type"] = "licensed",
            },
        ["tax_behavior"] = "unspecified",
        ["tiers_mode"] = null,
        ["transform_quantity"] = null,
        ["type"] = Interval is null ? "one_time" : "recurring",
        ["unit_amount"] = UnitAmount,
        ["unit_amount_decimal"] = UnitAmount.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
