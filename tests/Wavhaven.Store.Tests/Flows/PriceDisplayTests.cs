using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>The store shows a configured price as Stripe charges it, whatever the currency's minor unit.</summary>
public class PriceDisplayTests
{
    /// <summary>
    /// A plan's Amount is in the currency's minor unit, which for yen is the yen itself: Stripe charges ¥900 for 900.
    /// The store divided every amount by 100 and offered Pro for "9.00 JPY" a month, while Checkout asked for 900 JPY.
    /// </summary>
    [Fact]
    public async Task ProPricedInAZeroDecimalCurrency_ShowsTheAmountStripeCharges()
    {
        await using var store = await StoreApp.StartAsync(new Dictionary<string, string>
        {
            ["Stripe:Plans:0:Prices:0:Amount"] = "900",
            ["Stripe:Plans:0:Prices:0:Currency"] = "jpy",
            ["Stripe:Plans:0:Prices:1:Amount"] = "9000",
            ["Stripe:Plans:0:Prices:1:Currency"] = "jpy",
        });
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("yen@example.com");

        var page = await browser.GetPageAsync("/pro");
        var checkoutUrl = await browser.RedirectOfAsync("/pro", "/pro?handler=Subscribe", new Dictionary<string, string> { ["interval"] = "month" });
        var checkoutPage = await browser.GetPageAsync(checkoutUrl.ToString());

        checkoutPage.Should().Contain("900 JPY", "Stripe charges the plan's Amount as whole yen");
        page.Should().Contain("<strong>900 JPY</strong> per month").And.Contain("<strong>9000 JPY</strong> per year");
    }
}
