using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Tests.Support;

/// <summary>Builds the library's real service graph with Stripe replaced by a <see cref="StubStripeHandler"/>.</summary>
public static class TestServices
{
    public const string SecretKey = "sk_test_51TestKeyDoNotLogMe";

    public static void DefaultOptions(StripePaymentsOptions options)
    {
        options.SecretKey = SecretKey;
        options.SuccessUrl = "https://shop.example/checkout/success";
        options.CancelUrl = "https://shop.example/cart";
        options.Plans.Add(new PlanOptions
        {
            Id = "beat-license",
            Name = "Beat licence",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = "price_license_test", LivePriceId = "price_license_live", Amount = 2900, Currency = "usd" } },
        });
        options.Plans.Add(new PlanOptions
        {
            Id = "pro",
            Name = "Pro",
            BillingType = BillingType.Subscription,
            Prices =
            {
                new PlanPriceOptions { Interval = PriceInterval.Month, TestPriceId = "price_pro_month", LivePriceId = "price_pro_month_live", Amount = 1500, Currency = "usd" },
                new PlanPriceOptions { Interval = PriceInterval.Year, TestPriceId = "price_pro_year", LivePriceId = "price_pro_year_live", Amount = 15000, Currency = "usd" },
            },
            Grants = { ["credits"] = "500" },
        });
        options.Plans.Add(new PlanOptions { Id = "free", BillingType = BillingType.Free });
        options.Plans.Add(new PlanOptions
        {
            Id = "euro-pack",
            BillingType = BillingType.OneTime,
            Prices = { new PlanPriceOptions { Interval = PriceInterval.OneTime, TestPriceId = "price_euro_pack", Amount = 900, Currency = "eur" } },
        });
    }

    public static ServiceProvider Build(StubStripeHandler handler, Action<StripePaymentsOptions>? configure = null, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug));
        collection.AddStripePayments(options =>
        {
            DefaultOptions(options);
            configure?.Invoke(options);
        });
        collection.AddHttpClient(StripeHttpClient.HttpClientName).ConfigurePrimaryHttpMessageHandler(() => handler);
        services?.Invoke(collection);
        return collection.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = false });
    }
}
