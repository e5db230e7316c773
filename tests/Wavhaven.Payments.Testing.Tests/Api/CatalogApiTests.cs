using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Api;

public sealed class CatalogApiTests : EmulatorTest
{
    [Fact]
    public async Task SeededPrice_UsesThePlansTestPriceIdAndInterval()
    {
        var month = await Stripe.GetOkAsync("/v1/prices/" + TestPlans.ProMonthPrice);
        var license = await Stripe.GetOkAsync("/v1/prices/" + TestPlans.LicensePrice);

        ((long)month["unit_amount"]!).Should().Be(1500);
        ((string)month["currency"]!).Should().Be("usd");
        ((string)month["type"]!).Should().Be("recurring");
        ((string)month["recurring"]!["interval"]!).Should().Be("month");
        ((string)license["type"]!).Should().Be("one_time");
        license["recurring"].Should().BeNull();
        var product = await Stripe.GetOkAsync("/v1/products/" + (string)month["product"]!);
        ((string)product["name"]!).Should().Be("Pro");
        ((string)product["id"]!).Should().StartWith("prod_");
    }

    [Fact]
    public async Task ListPrices_FiltersByType()
    {
        var recurring = await Stripe.GetOkAsync("/v1/prices?type=recurring&limit=100");

        recurring["data"]!.AsArray().Select(p => (string)p!["id"]!).Should().BeEquivalentTo(TestPlans.ProMonthPrice, TestPlans.ProYearPrice, TestPlans.TeamMonthPrice);
    }
}
