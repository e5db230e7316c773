using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>What a review of the sample found a copier would inherit: each test failed on the sample before its fix.</summary>
public class StoreHardeningTests
{
    /// <summary>
    /// The success and cancel URLs sent to Stripe, and the emailed download links, are built from the request's Host.
    /// With AllowedHosts "*", whoever opened a checkout chose where Stripe sent the paying buyer afterwards.
    /// </summary>
    [Fact]
    public async Task ARequestNamingAnotherHost_IsRefused_SoNoUrlIsBuiltFromIt()
    {
        await using var store = await StoreApp.StartAsync();
        using var forged = new HttpClient(new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = store.BaseAddress };
        forged.DefaultRequestHeaders.Host = "evil.example";
        using var own = new HttpClient(new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false }) { BaseAddress = store.BaseAddress };

        using var cart = await forged.GetAsync("/cart");
        using var success = await forged.GetAsync("/checkout/success?session_id=cs_test_any");
        using var ownCart = await own.GetAsync("/cart");

        cart.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        success.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        ownCart.StatusCode.Should().Be(HttpStatusCode.OK, "the store's own host is allowed");
    }

    /// <summary>The cancelled page shows a registered user's order to that user only.</summary>
    [Fact]
    public async Task ARegisteredUsersOrder_IsNotShownOnTheCancelledPageToAnotherVisitor()
    {
        await using var store = await StoreApp.StartAsync();
        using var owner = store.NewBrowser();
        await owner.StartRegisteredOrderAsync("owner@example.com");
        var reference = await store.WithDbAsync(db => db.Orders.Select(o => o.Reference).SingleAsync());
        using var stranger = store.NewBrowser();

        var page = await stranger.GetPageAsync($"/checkout/cancelled?order={reference}");

        page.Should().NotContain("id=\"order-status\"", "a registered user's order does not exist to anyone else");
        (await owner.GetPageAsync($"/checkout/cancelled?order={reference}")).Should().Contain("id=\"order-status\"", "its owner still sees it");
    }

    /// <summary>Sign-in locks an account out after repeated wrong passwords, so they cannot be guessed without limit.</summary>
    [Fact]
    public async Task SignIn_LocksTheAccountAfterRepeatedWrongPasswords()
    {
        await using var store = await StoreApp.StartAsync();
        using (var owner = store.NewBrowser())
        {
            await owner.RegisterAsync("target@example.com", password: "correct-horse-battery");
        }

        using var attacker = store.NewBrowser();
        for (var guess = 0; guess < 10; guess++)
        {
            using var wrong = await attacker.SubmitAsync("/account/login", "/account/login", new Dictionary<string, string> { ["email"] = "target@example.com", ["password"] = "guess-" + guess });
            wrong.StatusCode.Should().Be(HttpStatusCode.OK);
        }

        using var right = await attacker.SubmitAsync("/account/login", "/account/login", new Dictionary<string, string> { ["email"] = "target@example.com", ["password"] = "correct-horse-battery" });

        right.StatusCode.Should().NotBe(HttpStatusCode.Redirect, "after 10 wrong guesses the account should be locked out for a while");
    }

    [Fact]
    public async Task ARegisteredBuyerPayingByBankDebit_IsToldWhereTheLicencesWillAppear()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("debit@example.com");
        await browser.AddToCartAsync("low-tide");
        var checkoutUrl = await browser.CheckoutCartAsync();
        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString(), EmulatedPayment.DelayedBankDebit);

        var pending = await browser.GetPageAsync(successUrl.PathAndQuery);

        pending.Should().Contain("id=\"pending\"").And.Contain("your licences appear in your account")
            .And.NotContain("we will email you once it clears", "the store emails only guests");
    }

    /// <summary>
    /// A bank debit that bounced leaves the session complete and unpaid for good: the success page said "Payment
    /// processing" forever, while the webhook told the app the payment had failed.
    /// </summary>
    [Fact]
    public async Task ABankDebitThatFailed_TheSuccessPageSaysSo_AndTheOrderStaysUnpaid()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        var successUrl = await BuyWithABankDebitThatFailsAsync(store, browser, "bounced@example.com");

        var page = await browser.GetPageAsync(successUrl.PathAndQuery);

        page.Should().Contain("id=\"payment-failed\"").And.Contain("id=\"pay-again\"").And.NotContain("id=\"pending\"");
        StoreFlows.DownloadLinks(await browser.GetPageAsync("/account")).Should().BeEmpty("nothing was paid, so no licence is granted");
        (await store.WithDbAsync(db => db.Orders.Select(o => o.Status).SingleAsync())).Should().Be(OrderStatus.Created);
    }

    /// <summary>
    /// The failed-payment page's "Try again" sent the buyer to /cart, which the checkout emptied when it started: the buyer
    /// found an empty cart and had to fill it again, making a second order beside the first one, still CREATED. The order
    /// can be paid again (as the cancelled page offers), so the page must offer that.
    /// </summary>
    [Fact]
    public async Task ABankDebitThatFailed_TryAgain_PaysTheSameOrder_NotAnEmptyCart()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        var successUrl = await BuyWithABankDebitThatFailsAsync(store, browser, "bounced-again@example.com");
        var reference = await store.WithDbAsync(db => db.Orders.Select(o => o.Reference).SingleAsync());

        var page = await browser.GetPageAsync(successUrl.PathAndQuery);

        page.Should().Contain("id=\"payment-failed\"");
        (await browser.GetPageAsync("/cart")).Should().Contain("id=\"empty-cart\"", "the checkout emptied the cart when it started");
        page.Should().Contain($"action=\"/orders/{reference}/checkout\"", "the unpaid order can be paid again from here, as from the cancelled page; /cart is empty");
        using var retry = await browser.SubmitAsync(successUrl.PathAndQuery, $"/orders/{reference}/checkout", new Dictionary<string, string>());
        retry.StatusCode.Should().Be(System.Net.HttpStatusCode.Redirect);
        await store.Emulator.CompleteCheckoutAsync(retry.Headers.Location!.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        (await store.WithDbAsync(db => db.Orders.Select(o => o.Status).ToListAsync())).Should().Equal(OrderStatus.Paid);
    }

    /// <summary>
    /// A user whose Pro ended subscribes again and lands on "Welcome to Pro!": the success page's sync runs
    /// ProCheckoutHandler, which kept the old, canceled row, so the account said canceled until the subscription's own
    /// webhooks arrived.
    /// </summary>
    [Fact]
    public async Task Resubscribing_TheSuccessPagesSync_ShowsProInTheAccountAtOnce()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("comeback@example.com");
        await browser.SubscribeToProAsync(store);
        await browser.EndProAsync(store);

        await StopWebhooksAsync(store); // the new subscription's webhooks are on their way
        var again = await browser.RedirectOfAsync("/account", "/pro?handler=Subscribe", new Dictionary<string, string> { ["interval"] = "month" });
        var successUrl = await store.Emulator.CompleteCheckoutAsync(again.ToString());
        (await browser.GetPageAsync(successUrl.PathAndQuery)).Should().Contain("Welcome to Pro");

        (await browser.GetPageAsync("/account")).Should().Contain("id=\"subscription-status\">active", "the success page said Pro, and ProCheckoutHandler promises the account shows it at once");
    }

    /// <summary>A new user buys one licence with a bank debit that then fails; returns the success page's URL.</summary>
    private static async Task<Uri> BuyWithABankDebitThatFailsAsync(StoreApp store, Support.Browser browser, string email)
    {
        await browser.RegisterAsync(email);
        await browser.AddToCartAsync("low-tide");
        var checkoutUrl = await browser.CheckoutCartAsync();
        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString(), EmulatedPayment.DelayedBankDebit);
        var sessionId = System.Web.HttpUtility.ParseQueryString(successUrl.Query)["session_id"]!;
        await store.Emulator.SettleAsyncPaymentAsync(sessionId, succeeded: false);
        await store.Emulator.WaitForDeliveriesAsync();
        return successUrl;
    }

    private static async Task StopWebhooksAsync(StoreApp store)
    {
        using var client = new HttpClient(new HttpClientHandler { UseProxy = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", store.Emulator.SecretKey);
        var list = JsonNode.Parse(await client.GetStringAsync(new Uri(store.Emulator.BaseUrl, "v1/webhook_endpoints")))!;
        foreach (var endpoint in list["data"]!.AsArray())
        {
            using var deleted = await client.DeleteAsync(new Uri(store.Emulator.BaseUrl, "v1/webhook_endpoints/" + endpoint!["id"]!.GetValue<string>()));
            deleted.StatusCode.Should().Be(HttpStatusCode.OK);
        }
    }
}
