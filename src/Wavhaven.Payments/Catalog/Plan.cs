namespace Wavhaven.Payments.Catalog;

/// <summary>A plan of the catalog.</summary>
public sealed class Plan
{
    internal Plan(PlanOptions options, StripeMode mode)
    {
        Id = options.Id;
        Name = string.IsNullOrWhiteSpace(options.Name) ? options.Id : options.Name;
        Description = options.Description;
        BillingType = options.BillingType;
        Features = [.. options.Features];
        Grants = new Dictionary<string, string>(options.Grants, StringComparer.OrdinalIgnoreCase).AsReadOnly(); // the catalog is shared by every caller
        Prices = [.. options.Prices.Select(price => new PlanPrice(this, price, mode))];
    }

    /// <summary>Gets the plan's id.</summary>
    public string Id { get; }

    /// <summary>Gets the name shown to buyers (the id when none is configured).</summary>
    public string Name { get; }

    /// <summary>Gets the description.</summary>
    public string? Description { get; }

    /// <summary>Gets how the plan is billed.</summary>
    public BillingType BillingType { get; }

    /// <summary>Gets the plan's prices.</summary>
    public IReadOnlyList<PlanPrice> Prices { get; }

    /// <summary>Gets the features listed for the plan.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>Gets the plan's free-form grants (keys compared case-insensitively).</summary>
    public IReadOnlyDictionary<string, string> Grants { get; }

    /// <summary>Gets the plan's price for an interval, or <see langword="null"/>.</summary>
    public PlanPrice? GetPrice(PriceInterval interval) => Prices.FirstOrDefault(price => price.Interval == interval);

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>A price of a plan, resolved for the current mode.</summary>
public sealed class PlanPrice
{
    internal PlanPrice(Plan plan, PlanPriceOptions options, StripeMode mode)
    {
        Plan = plan;
        Interval = options.Interval;
        TestPriceId = options.TestPriceId;
        LivePriceId = options.LivePriceId;
        PriceId = (mode == StripeMode.Live ? options.LivePriceId : options.TestPriceId) ?? string.Empty;
        Amount = options.Amount;
        Currency = options.Currency.ToLowerInvariant();
    }

    /// <summary>Gets the plan the price belongs to.</summary>
    public Plan Plan { get; }

    /// <summary>Gets the billing interval.</summary>
    public PriceInterval Interval { get; }

    /// <summary>Gets whether the price bills every interval (month or year).</summary>
    public bool IsRecurring => Interval != PriceInterval.OneTime;

    /// <summary>Gets the Stripe price id for the current mode (test or live).</summary>
    public string PriceId { get; }

    /// <summary>Gets the test-mode price id.</summary>
    public string? TestPriceId { get; }

    /// <summary>Gets the live-mode price id.</summary>
    public string? LivePriceId { get; }

    /// <summary>Gets the amount shown to buyers, in minor units.</summary>
    public long Amount { get; }

    /// <summary>Gets the currency, lowercase.</summary>
    public string Currency { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Plan.Id}/{Interval}";
}
