using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>What the store charges a Pro member for licences.</summary>
public class ProDiscountTests
{
    /// <summary>
    /// Pro is sold with "20% off every licence" (its description, its features, and its licence-discount-percent grant),
    /// but the store priced a member's order at the full price: a member paid 39.00 USD for a 39.00 licence.
    /// </summary>
    [Fact]
    public async Task ProMember_PaysTheAdvertisedDiscountedPriceForLicences()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("member@example.com");
        await browser.SubscribeToProAsync(store);
        (await browser.GetPageAsync("/pro")).Should().Contain("20% off");

        await browser.AddToCartAsync("concrete-bloom"); // 39.00 USD
        var cart = await browser.GetPageAsync("/cart");
        var checkoutUrl = await browser.CheckoutCartAsync();
        var checkoutPage = await browser.GetPageAsync(checkoutUrl.ToString());

        checkoutPage.Should().Contain("id=\"total\">31.20 USD", "Stripe should charge a Pro member 20% off the 39.00 licence");
        cart.Should().Contain("id=\"cart-total\">31.20 USD");
    }

    /// <summary>A control: it passed before the discount was applied too, and keeps the discount to Pro members.</summary>
    [Fact]
    public async Task NonMember_PaysTheFullPrice()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("visitor@example.com");

        await browser.AddToCartAsync("concrete-bloom");
        var cart = await browser.GetPageAsync("/cart");
        var checkoutPage = await browser.GetPageAsync((await browser.CheckoutCartAsync()).ToString());

        checkoutPage.Should().Contain("id=\"total\">39.00 USD");
        cart.Should().Contain("id=\"cart-total\">39.00 USD");
    }
}
