using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Options;

namespace Wavhaven.Payments.Catalog;

/// <summary>The catalog built once from validated options.</summary>
internal sealed class PlanCatalog : IPlanCatalog
{
    private readonly Dictionary<string, Plan> _plansById;
    private readonly Dictionary<string, PlanPrice> _pricesById;

    public PlanCatalog(IOptions<StripePaymentsOptions> options)
    {
        var value = options.Value;
        Mode = value.Mode;
        Plans = [.. value.Plans.Select(plan => new Plan(plan, Mode))];
        _plansById = Plans.ToDictionary(plan => plan.Id, StringComparer.Ordinal);
        _pricesById = new Dictionary<string, PlanPrice>(StringComparer.Ordinal);
        foreach (var price in Plans.SelectMany(plan => plan.Prices))
        {
            if (!string.IsNullOrEmpty(price.TestPriceId))
            {
                _pricesById[price.TestPriceId] = price;
            }

            if (!string.IsNullOrEmpty(price.LivePriceId))
            {
                _pricesById[price.LivePriceId] = price;
            }
        }
    }

    public StripeMode Mode { get; }

    public IReadOnlyList<Plan> Plans { get; }

    public bool TryGetPlan(string planId, [NotNullWhen(true)] out Plan? plan)
    {
        ArgumentNullException.ThrowIfNull(planId);
        return _plansById.TryGetValue(planId, out plan);
    }

    public bool TryGetPrice(string priceId, [NotNullWhen(true)] out PlanPrice? price)
    {
        ArgumentNullException.ThrowIfNull(priceId);
        return _pricesById.TryGetValue(priceId, out price);
    }
}
