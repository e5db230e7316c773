using Wavhaven.Payments.Catalog;

namespace Wavhaven.Payments.Testing.Tests.Support;

/// <summary>The catalog the tests sell: a one-time licence and a monthly/yearly subscription.</summary>
public static class TestPlans
{
    public const string LicensePrice = "price_license_test";
    public const string ProMonthPrice = "price_pro_month";
    public const string ProYearPrice = "price_pro_year";
    public const string TeamMonthPrice = "price_team_month";

    public static List<PlanOptions> Create() =>
    [
        new PlanOptions
        {
            Id = "beat-license",
            Name = "Beat licence",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = LicensePrice, Amount = 2900, Currency = "usd" } },
        },
        new PlanOptions
        {
            Id = "pro",
            Name = "Pro",
            BillingType = BillingType.Subscription,
            Prices =
            {
                new PlanPriceOptions { Interval = PriceInterval.Month, TestPriceId = ProMonthPrice, Amount = 1500, Currency = "usd" },
                new PlanPriceOptions { Interval = PriceInterval.Year, TestPriceId = ProYearPrice, Amount = 15000, Currency = "usd" },
            },
        },
        new PlanOptions
        {
            Id = "team",
            Name = "Team",
            BillingType = BillingType.Subscription,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.Month, TestPriceId = TeamMonthPrice, Amount = 4500, Currency = "usd" } },
        },
        new PlanOptions { Id = "free", BillingType = BillingType.Free },
    ];
}
