using System.Diagnostics.CodeAnalysis;

namespace Wavhaven.Payments.Catalog;

/// <summary>The plans the app sells, from configuration.</summary>
public interface IPlanCatalog
{
    /// <summary>Gets the mode the secret key selects, which decides which price ids are current.</summary>
    StripeMode Mode { get; }

    /// <summary>Gets every plan, in configuration order.</summary>
    IReadOnlyList<Plan> Plans { get; }

    /// <summary>Finds a plan by its id (case-sensitive).</summary>
    bool TryGetPlan(string planId, [NotNullWhen(true)] out Plan? plan);

    /// <summary>Finds a price by its Stripe price id, test or live.</summary>
    bool TryGetPrice(string priceId, [NotNullWhen(true)] out PlanPrice? price);
}
