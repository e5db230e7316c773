using Wavhaven.Payments.Catalog;

namespace Wavhaven.Payments.Checkout;

/// <summary>A line of a cart: a catalog price (<see cref="ForPlan"/>) or an ad-hoc item (<see cref="Item"/>).</summary>
public abstract class CheckoutLine
{
    private protected CheckoutLine(int quantity)
    {
        Quantity = quantity;
    }

    /// <summary>Gets how many are bought; at least 1.</summary>
    public int Quantity { get; }

    /// <summary>A catalog plan's price.</summary>
    /// <param name="planId">The plan's id.</param>
    /// <param name="interval">The interval; may be left out when the plan has one price.</param>
    /// <param name="quantity">How many.</param>
    public static PlanLine ForPlan(string planId, PriceInterval? interval = null, int quantity = 1) => new(planId, interval, quantity);

    /// <summary>An item priced by the app at checkout time (e.g. one beat of a cart).</summary>
    /// <param name="name">The product name shown on Checkout.</param>
    /// <param name="unitAmount">The unit amount in minor units (1999 = 19.99).</param>
    /// <param name="currency">The three-letter ISO currency code.</param>
    /// <param name="quantity">How many.</param>
    /// <param name="productMetadata">Metadata of the product Stripe creates for the line.</param>
    public static ItemLine Item(string name, long unitAmount, string currency, int quantity = 1, IReadOnlyDictionary<string, string>? productMetadata = null) =>
        new(name, unitAmount, currency, quantity, productMetadata);
}

/// <summary>A catalog plan's price.</summary>
public sealed class PlanLine : CheckoutLine
{
    /// <summary>Initializes a new instance.</summary>
    public PlanLine(string planId, PriceInterval? interval = null, int quantity = 1)
        : base(quantity)
    {
        PlanId = planId;
        Interval = interval;
    }

    /// <summary>Gets the plan's id.</summary>
    public string PlanId { get; }

    /// <summary>Gets the interval; <see langword="null"/> picks the plan's only price.</summary>
    public PriceInterval? Interval { get; }
}

/// <summary>An item priced by the app at checkout time.</summary>
public sealed class ItemLine : CheckoutLine
{
    /// <summary>Initializes a new instance.</summary>
    public ItemLine(string name, long unitAmount, string currency, int quantity = 1, IReadOnlyDictionary<string, string>? productMetadata = null)
        : base(quantity)
    {
        Name = name;
        UnitAmount = unitAmount;
        Currency = currency;
        ProductMetadata = productMetadata;
    }

    /// <summary>Gets the product name shown on Checkout.</summary>
    public string Name { get; }

    /// <summary>Gets the unit amount in minor units.</summary>
    public long UnitAmount { get; }

    /// <summary>Gets the currency.</summary>
    public string Currency { get; }

    /// <summary>Gets the metadata of the product Stripe creates for the line.</summary>
    public IReadOnlyDictionary<string, string>? ProductMetadata { get; }
}
