using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Wavhaven.Store.Tests.Browser;

/// <summary>A registered user subscribes to Pro in Chromium and switches to yearly in the emulated billing portal.</summary>
[Collection(ChromiumCollection.Name)]
[Trait("Category", "Browser")]
public sealed class ProSubscriptionInBrowserTests(ChromiumFixture chromium, ITestOutputHelper output)
{
    [ChromiumFact]
    public async Task RegisteredUserSubscribesMonthly_SwitchesToYearlyInTheBillingPortal_AndTheAccountShowsYearly()
    {
        await using var shop = await StoreInBrowser.StartAsync(chromium, output, GetType());
        var page = shop.Page;

        await page.GotoAsync("/account/register");
        await page.GetByLabel("Name").FillAsync("Sam Pro");
        await page.GetByLabel("Email").FillAsync("pro@example.com");
        await page.GetByLabel("Password").FillAsync("correct-horse-battery");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
        await Expect(page.Locator("#account-link")).ToHaveTextAsync("pro@example.com");

        await page.GetByRole(AriaRole.Link, new() { Name = "Pro", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Subscribe monthly" }).ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(shop.Store.Emulator.BaseUrl + "checkout/pay/cs_")));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Subscribe" })).ToBeVisibleAsync();
        await Expect(page.GetByText("billed every month")).ToBeVisibleAsync();
        await Expect(page.Locator("#total")).ToHaveTextAsync("9.00 USD");
        await page.GetByRole(AriaRole.Button, new() { Name = "Pay", Exact = true }).ClickAsync();

        await Expect(page.Locator("main")).ToContainTextAsync("Welcome to Pro");
        await page.Locator("#account-summary-link").ClickAsync();
        await Expect(page.Locator("#subscription-status")).ToHaveTextAsync("active");
        await Expect(page.Locator("#subscription-interval")).ToHaveTextAsync("month");

        // Manage billing opens the emulated portal, where the buyer switches the plan's price.
        await page.GetByRole(AriaRole.Button, new() { Name = "Manage billing" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("^" + Regex.Escape(shop.Store.Emulator.BaseUrl + "billing/portal/")));
        await Expect(page.GetByText("9.00 USD / month")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch to Pro (90.00 USD / year)" }).ClickAsync();

        // Back in the account: the switch reaches the store by webhook (customer.subscription.updated).
        await Expect(page).ToHaveURLAsync(shop.Store.BaseAddress + "account");
        await shop.Store.Emulator.WaitForDeliveriesAsync();
        await page.ReloadAsync();
        await Expect(page.Locator("#subscription-status")).ToHaveTextAsync("active");
        await Expect(page.Locator("#subscription-interval")).ToHaveTextAsync("year");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Switch to monthly" })).ToBeVisibleAsync();

        shop.Store.Emulator.Deliveries.Should().Contain(d => d.EventType == "customer.subscription.updated" && d.StatusCode == 200);
        var subscription = await shop.Store.WithDbAsync(db => db.ProSubscriptions.SingleAsync());
        subscription.Interval.Should().Be("year");
        shop.ServerErrors.Should().BeEmpty();
    }
}
