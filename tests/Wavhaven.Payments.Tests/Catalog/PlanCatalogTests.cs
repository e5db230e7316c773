using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;

namespace Wavhaven.Payments.Tests.Catalog;

/// <summary>The catalog as bound from the <c>Stripe</c> section, for a test key and for a live key.</summary>
public class PlanCatalogTests
{
    private const string CatalogJson = """
        {
          "Stripe": {
            "SecretKey": "sk_test_51CatalogTests",
            "Plans": [
              {
                "Id": "beat-license",
                "Name": "Beat licence",
                "Description": "One beat, yours to use",
                "BillingType": "OneTime",
                "Prices": [ { "Interval": "OneTime", "TestPriceId": "price_123", "LivePriceId": "price_456", "Amount": 2900, "Currency": "USD" } ]
              },
              {
                "Id": "pro",
                "BillingType": "Subscription",
                "Prices": [
                  { "Interval": "Month", "TestPriceId": "price_m_test", "LivePriceId": "price_m_live", "Amount": 1500, "Currency": "usd" },
                  { "Interval": "Year",  "TestPriceId": "price_y_test", "LivePriceId": "price_y_live", "Amount": 15000, "Currency": "usd" }
                ],
                "Features": [ "Unlimited downloads", "Stems" ],
                "Grants": { "credits": "500", "Seats": "3" }
              },
              { "Id": "starter", "Name": "Starter", "BillingType": "Free" }
            ]
          }
        }
        """;

    private static IPlanCatalog FromJson(string? secretKey = null)
    {
        var builder = new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(CatalogJson)));
        if (secretKey is not null)
        {
            builder.AddInMemoryCollection(new Dictionary<string, string?> { ["Stripe:SecretKey"] = secretKey });
        }

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(builder.Build().GetSection("Stripe"));
        return services.BuildServiceProvider().GetRequiredService<IPlanCatalog>();
    }

    [Fact]
    public void Plans_BoundFromJson_KeepConfigurationOrderAndEveryField()
    {
        var sut = FromJson();

        sut.Plans.Select(plan => plan.Id).Should().Equal("beat-license", "pro", "starter");

        var license = sut.Plans[0];
        license.Name.Should().Be("Beat licence");
        license.Description.Should().Be("One beat, yours to use");
        license.BillingType.Should().Be(BillingType.OneTime);
        var price = license.Prices.Should().ContainSingle().Subject;
        price.Interval.Should().Be(PriceInterval.OneTime);
        price.IsRecurring.Should().BeFalse();
        price.Amount.Should().Be(2900);
        price.Currency.Should().Be("usd", "currencies are lowercased, as Stripe sends them");
        price.Plan.Should().BeSameAs(license);

        var pro = sut.Plans[1];
        pro.Name.Should().Be("pro", "a plan without a name shows its id");
        pro.BillingType.Should().Be(BillingType.Subscription);
        pro.Features.Should().Equal("Unlimited downloads", "Stems");
        pro.Grants.Should().HaveCount(2);
        pro.Grants["CREDITS"].Should().Be("500", "grant keys are compared ignoring case");
        pro.Grants["seats"].Should().Be("3");
        pro.GetPrice(PriceInterval.Year)!.Amount.Should().Be(15000);
        pro.GetPrice(PriceInterval.OneTime).Should().BeNull();

        sut.Plans[2].BillingType.Should().Be(BillingType.Free);
        sut.Plans[2].Prices.Should().BeEmpty();
    }

    [Fact]
    public void TestKey_SelectsTestPriceIds()
    {
        var sut = FromJson("sk_test_51CatalogTests");

        sut.Mode.Should().Be(StripeMode.Test);
        sut.TryGetPlan("pro", out var pro).Should().BeTrue();
        pro!.Prices.Select(price => price.PriceId).Should().Equal("price_m_test", "price_y_test");
    }

    [Theory]
    [InlineData("sk_live_51CatalogTests")]
    [InlineData("rk_live_51CatalogTests")]
    public void LiveKey_SelectsLivePriceIds(string secretKey)
    {
        var sut = FromJson(secretKey);

        sut.Mode.Should().Be(StripeMode.Live);
        sut.TryGetPlan("pro", out var pro).Should().BeTrue();
        pro!.Prices.Select(price => price.PriceId).Should().Equal("price_m_live", "price_y_live");
        sut.Plans[0].Prices[0].PriceId.Should().Be("price_456");
    }

    [Theory]
    [InlineData("price_m_test")]
    [InlineData("price_m_live")]
    public void TryGetPrice_ByTestOrLiveId_FindsTheSamePrice(string priceId)
    {
        var sut = FromJson();

        sut.TryGetPrice(priceId, out var price).Should().BeTrue();

        price!.Plan.Id.Should().Be("pro");
        price.Interval.Should().Be(PriceInterval.Month);
        price.PriceId.Should().Be("price_m_test", "the current mode's id, whichever id found it");
    }

    [Theory]
    [InlineData("price_nope")]
    [InlineData("PRICE_M_TEST")]
    [InlineData("")]
    public void TryGetPrice_UnknownId_ReturnsFalse(string priceId)
    {
        FromJson().TryGetPrice(priceId, out var price).Should().BeFalse();
        price.Should().BeNull();
    }

    [Theory]
    [InlineData("enterprise")]
    [InlineData("PRO")]
    public void TryGetPlan_UnknownOrOtherCase_ReturnsFalse(string planId)
    {
        FromJson().TryGetPlan(planId, out var plan).Should().BeFalse();
        plan.Should().BeNull();
    }

    [Fact]
    public void Lookups_NullIds_Throw()
    {
        var sut = FromJson();

        FluentActions.Invoking(() => sut.TryGetPlan(null!, out _)).Should().Throw<ArgumentNullException>();
        FluentActions.Invoking(() => sut.TryGetPrice(null!, out _)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Plans_BoundFromInMemoryCollection_MatchTheJson()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Stripe:SecretKey"] = "sk_test_51CatalogTests",
            ["Stripe:Plans:0:Id"] = "pro",
            ["Stripe:Plans:0:BillingType"] = "Subscription",
            ["Stripe:Plans:0:Prices:0:Interval"] = "Year",
            ["Stripe:Plans:0:Prices:0:TestPriceId"] = "price_y_test",
            ["Stripe:Plans:0:Prices:0:Amount"] = "15000",
            ["Stripe:Plans:0:Prices:0:Currency"] = "eur",
            ["Stripe:Plans:0:Grants:credits"] = "500",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(configuration.GetSection("Stripe"));

        var sut = services.BuildServiceProvider().GetRequiredService<IPlanCatalog>();

        sut.TryGetPrice("price_y_test", out var price).Should().BeTrue();
        price!.Plan.Id.Should().Be("pro");
        price.Interval.Should().Be(PriceInterval.Year);
        price.IsRecurring.Should().BeTrue();
        price.Currency.Should().Be("eur");
        price.LivePriceId.Should().BeNull();
        price.Plan.Grants["credits"].Should().Be("500");
    }
}
