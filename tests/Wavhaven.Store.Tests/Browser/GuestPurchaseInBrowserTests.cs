using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Wavhaven.Store.Data;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Wavhaven.Store.Tests.Browser;

/// <summary>A guest shops in Chromium: the store's pages, the emulator's hosted Checkout page, the mailbox, the download.</summary>
[Collection(ChromiumCollection.Name)]
[Trait("Category", "Browser")]
public sealed class GuestPurchaseInBrowserTests(ChromiumFixture chromium, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task GuestBuysTwoLicences_PaysOnTheCheckoutPage_AndDownloadsThemFromTheMailbox()
    {
        await using var shop = await StoreInBrowser.StartAsync(chromium, output, GetType());
        var page = shop.Page;

        await page.GotoAsync("/");
        await AddToCartAsync(page, "midnight-drive", expectedCount: 1);
        await AddToCartAsync(page, "golden-hour", expectedCount: 2);
        await GoToCheckoutAsync(page, "guest.buyer@example.com", expectedTotal: "58.00 USD");

        // Stripe's hosted page (the emulator's, on its own loopback origin) knows the buyer and the total.
        await Expect(page).ToHaveURLAsync(CheckoutPageUrl(shop));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Pay" })).ToBeVisibleAsync();
        await Expect(page.Locator("#total")).ToHaveTextAsync("58.00 USD");
        await Expect(page.GetByLabel("Email")).ToHaveValueAsync("guest.buyer@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pay", Exact = true }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(shop.Store.BaseAddress + "checkout/success?session_id=cs_")));
        await Expect(page.Locator("#paid")).ToBeVisibleAsync();
        await Expect(page.Locator("#order-status")).ToHaveTextAsync("PAID");

        await page.Locator("#mailbox-link").ClickAsync();
        var email = page.Locator("article.email");
        await Expect(email).ToHaveCountAsync(1);
        await Expect(email.Locator(".to")).ToHaveTextAsync("guest.buyer@example.com");
        var links = email.Locator("a.download");
        await Expect(links).ToHaveCountAsync(2);

        var downloaded = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var download = await page.RunAndWaitForDownloadAsync(() => links.Nth(i).ClickAsync());
            downloaded.Add(download.SuggestedFilename);
            var wav = await File.ReadAllBytesAsync(await download.PathAsync());
            wav.Length.Should().BeGreaterThan(44, "a WAV file is a header and samples");
            wav.AsSpan(0, 4).ToArray().Should().Equal("RIFF"u8.ToArray());
            wav.AsSpan(8, 4).ToArray().Should().Equal("WAVE"u8.ToArray());
        }

        downloaded.Should().BeEquivalentTo("midnight-drive.wav", "golden-hour.wav");
        await Expect(page.Locator("article.email")).ToBeVisibleAsync(); // a download does not navigate away
        var order = await shop.Store.WithDbAsync(db => db.Orders.SingleAsync());
        order.Status.Should().Be(OrderStatus.Paid);
        (await shop.Store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(2);
        shop.ServerErrors.Should().BeEmpty();
    }

    [ChromiumFact]
    public async Task DeclinedCard_ShowsTheDeclineOnTheCheckoutPage_AndTheOrderStaysUnpaid()
    {
        await using var shop = await StoreInBrowser.StartAsync(chromium, output, GetType());
        var page = shop.Page;

        await page.GotoAsync("/");
        await AddToCartAsync(page, "neon-rain", expectedCount: 1);
        await GoToCheckoutAsync(page, "declined@example.com", expectedTotal: "34.00 USD");
        await Expect(page).ToHaveURLAsync(CheckoutPageUrl(shop));
        var checkoutUrl = page.Url;

        var declined = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Pay with a declined card" }).ClickAsync(),
            response => response.Request.Method == "POST");

        // The buyer stays on Stripe's page, told why, and can try another way to pay.
        declined.Status.Should().Be(402);
        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Your card was declined.");
        page.Url.Should().Be(checkoutUrl);
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Pay", Exact = true })).ToBeEnabledAsync();

        // Whatever webhooks the decline sent have landed, and the store has not paid or fulfilled anything.
        await shop.Store.Emulator.WaitForDeliveriesAsync();
        var order = await shop.Store.WithDbAsync(db => db.Orders.SingleAsync());
        order.Status.Should().Be(OrderStatus.Created);
        checkoutUrl.Should().Contain(order.CheckoutSessionId!);
        (await shop.Store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(0);
        (await shop.Store.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(0);
        shop.ServerErrors.Should().BeEmpty();
    }

    private static async Task AddToCartAsync(IPage page, string beatId, int expectedCount)
    {
        await page.Locator($"#beat-{beatId}").GetByRole(AriaRole.Button, new() { Name = "Add to cart" }).ClickAsync();
        await Expect(page.Locator("#cart-link")).ToHaveTextAsync($"Cart ({expectedCount})");
    }

    private static async Task GoToCheckoutAsync(IPage page, string email, string expectedTotal)
    {
        await page.Locator("#cart-link").ClickAsync();
        await Expect(page.Locator("#cart-total")).ToHaveTextAsync(expectedTotal);
        await page.GetByLabel("Your email").FillAsync(email);
        await page.GetByRole(AriaRole.Button, new() { Name = "Checkout" }).ClickAsync();
    }

    private static Regex CheckoutPageUrl(StoreInBrowser shop) => new("^" + Regex.Escape(shop.Store.Emulator.BaseUrl + "checkout/pay/cs_"));
}
