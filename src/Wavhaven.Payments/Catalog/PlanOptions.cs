using System.ComponentModel.DataAnnotations;

namespace Wavhaven.Payments.Catalog;

/// <summary>One plan of the catalog, as configured under <c>Stripe:Plans</c>.</summary>
public sealed class PlanOptions
{
    /// <summary>Gets or sets the plan's id, used by the app and in checkout requests (e.g. <c>pro</c>).</summary>
    [Required(ErrorMessage = "A plan has no Id. Give every entry of Stripe:Plans an Id, e.g. \"pro\".")]
    public string Id { get; set; } = string.Empty;

    /// <summary>Gets or sets the name shown to buyers.</summary>
    public string? Name { get; set; }

    /// <summary>Gets or sets a description shown to buyers.</summary>
    public string? Description { get; set; }

    /// <summary>Gets or sets how the plan is billed.</summary>
    public BillingType BillingType { get; set; } = BillingType.OneTime;

    /// <summary>Gets or sets the plan's prices, one per interval.</summary>
    public IList<PlanPriceOptions> Prices { get; set; } = [];

    /// <summary>Gets or sets the features listed for the plan.</summary>
    public IList<string> Features { get; set; } = [];

    /// <summary>Gets or sets free-form grants (e.g. <c>credits: 500</c>) that handlers read.</summary>
    public IDictionary<string, string> Grants { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One price of a plan.</summary>
public sealed class PlanPriceOptions
{
    /// <summary>Gets or sets the billing interval.</summary>
    public PriceInterval Interval { get; set; } = PriceInterval.OneTime;

    /// <summary>Gets or sets the test-mode price id (<c>price_…</c>).</summary>
    public string? TestPriceId { get; set; }

    /// <summary>Gets or sets the live-mode price id (<c>price_…</c>).</summary>
    public string? LivePriceId { get; set; }

    /// <summary>Gets or sets the amount shown to buyers, in minor units (1999 = 19.99).</summary>
    public long Amount { get; set; }

    /// <summary>Gets or sets the three-letter ISO currency code, e.g. <c>usd</c>.</summary>
    public string Currency { get; set; } = string.Empty;
}

/// <summary>How a plan is billed.</summary>
public enum BillingType
{
    /// <summary>No payment: the plan cannot be bought through Checkout.</summary>
    Free,

    /// <summary>Paid once.</summary>
    OneTime,

    /// <summary>Paid every month or year.</summary>
    Subscription,
}

/// <summary>The interval of a price.</summary>
public enum PriceInterval
{
    /// <summary>Paid once.</summary>
    OneTime,

    /// <summary>Paid every month.</summary>
    Month,

    /// <summary>Paid every year.</summary>
    Year,
}
