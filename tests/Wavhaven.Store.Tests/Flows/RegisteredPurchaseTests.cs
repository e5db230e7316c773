using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>A registered user buys licences, and subscribes to Pro, manages it in the portal, and cancels.</summary>
public class RegisteredPurchaseTests
{
    [Fact]
    public async Task RegisteredUserBuys_LicencesAppearInTheAccount_WithoutAnEmail()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("sam@example.com");
        await browser.AddToCartAsync("concrete-bloom", "low-tide");

        var checkoutUrl = await browser.CheckoutCartAsync();
        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        var success = await browser.GetPageAsync(successUrl.PathAndQuery);
        await store.Emulator.WaitForDeliveriesAsync();

        success.Should().Contain("id=\"order-status\">PAID");
        var account = await browser.GetPageAsync("/account");
        StoreFlows.DownloadLinks(account).Should().HaveCount(2);
        account.Should().Contain("Concrete Bloom").And.Contain("Low Tide");
        (await store.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(0);
        var customer = store.Emulator.Events.First(e => e.Type == "checkout.session.completed").DataObject()["customer"]!.GetValue<string>();
        customer.Should().StartWith("cus_");
    }

    [Fact]
    public async Task ARegisteredUsersOrder_CannotBeCheckedOutByAnotherUserOrAGuest()
    {
        await using var store = await StoreApp.StartAsync();
        using var owner = store.NewBrowser();
        await owner.StartRegisteredOrderAsync("owner@example.com");
        var reference = await store.WithDbAsync(db => db.Orders.Select(o => o.Reference).SingleAsync());
        using var other = store.NewBrowser();
        await other.RegisterAsync("other@example.com");
        using var guest = store.NewBrowser();

        using var byOther = await other.PostFormAsync($"/orders/{reference}/checkout");
        using var byGuest = await guest.PostFormAsync($"/orders/{reference}/checkout");
        using var byOwner = await owner.PostFormAsync($"/orders/{reference}/checkout");

        byOther.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        byGuest.StatusCode.Should().Be(System.Net.HttpStatusCode.NotFound);
        byOwner.StatusCode.Should().Be(System.Net.HttpStatusCode.Redirect, "the owner may open a new Checkout session for it");
    }

    [Fact]
    public async Task AnOrderCheckoutPostedWithoutTheStoresFormToken_IsRefused_AndOpensNoSession()
    {
        await using var store = await StoreApp.StartAsync();
        using var owner = store.NewBrowser();
        await owner.StartRegisteredOrderAsync("owner@example.com");
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());

        // What another site's hidden form would send with the owner's cookies: no antiforgery token.
        using var forged = await owner.PostAsync($"/orders/{order.Reference}/checkout");

        forged.StatusCode.Should().Be(System.Net.HttpStatusCode.BadRequest);
        (await store.WithDbAsync(db => db.Orders.SingleAsync())).CheckoutAttempts.Should().Be(order.CheckoutAttempts, "no Checkout session was opened");
    }

    [Fact]
    public async Task Subscription_SwitchToYearlyInThePortal_ThenCancelAtPeriodEnd_EndsWhenTheClockPassesIt()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("pro@example.com");

        var checkoutUrl = await browser.RedirectOfAsync("/pro", "/pro?handler=Subscribe", new Dictionary<string, string> { ["interval"] = "month" });
        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        (await browser.GetPageAsync(successUrl.PathAndQuery)).Should().Contain("Welcome to Pro");
        await store.Emulator.WaitForDeliveriesAsync();
        var account = await browser.GetPageAsync("/account");
        account.Should().Contain("id=\"subscription-status\">active").And.Contain("id=\"subscription-interval\">month");

        // Switch to yearly: the store opens the portal on the switch's confirmation; the buyer confirms.
        var portalUrl = await browser.RedirectOfAsync("/account", "/account?handler=Switch", new Dictionary<string, string> { ["interval"] = "year" });
        portalUrl.ToString().Should().StartWith(store.Emulator.BaseUrl.ToString());
        await StoreFlows.SubmitPortalFormAsync(portalUrl, "switch");
        await store.Emulator.WaitForDeliveriesAsync();
        account = await browser.GetPageAsync("/account");
        account.Should().Contain("id=\"subscription-interval\">year");

        // Cancel at period end in the portal: still active until the period ends.
        var billingUrl = await browser.RedirectOfAsync("/account", "/account?handler=Billing", new Dictionary<string, string>());
        await StoreFlows.SubmitPortalFormAsync(billingUrl, "cancel");
        await store.Emulator.WaitForDeliveriesAsync();
        account = await browser.GetPageAsync("/account");
        account.Should().Contain("id=\"subscription-status\">active").And.Contain("id=\"cancels\"");

        await store.Emulator.AdvanceClockAsync(TimeSpan.FromDays(400));
        await store.Emulator.WaitForDeliveriesAsync();
        account = await browser.GetPageAsync("/account");
        account.Should().Contain("id=\"subscription-status\">canceled");
        store.Emulator.Events.Should().Contain(e => e.Type == "customer.subscription.deleted");
    }

    /// <summary>
    /// A user whose Pro ended subscribes again: two subscriptions. An event of the old one that comes late (a retried
    /// delivery, a later update of it) carries the old one's state, canceled, and must not take Pro from the new one.
    /// </summary>
    [Fact]
    public async Task Resubscribed_ALateEventOfTheOldSubscription_LeavesTheAccountOnPro()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("again@example.com");
        await browser.SubscribeToProAsync(store);
        await browser.EndProAsync(store);
        var ended = store.Emulator.Events.Last(e => e.Type == "customer.subscription.deleted").DataObject();

        await browser.SubscribeToProAsync(store);
        var renewed = await store.WithDbAsync(db => db.ProSubscriptions.SingleAsync());
        renewed.SubscriptionId.Should().NotBe(ended["id"]!.GetValue<string>(), "the user has a new subscription");

        var late = StripeTestEvent.Create("customer.subscription.updated", ended);
        var secret = store.Services.GetRequiredService<IConfiguration>()["Stripe:WebhookSecrets:0"]!;
        using var delivery = new HttpRequestMessage(HttpMethod.Post, new Uri(store.BaseAddress, "/api/webhooks/stripe")) { Content = new ByteArrayContent(late.GetPayloadBytes()) };
        delivery.Headers.Add("Stripe-Signature", late.CreateSignatureHeader(secret, DateTimeOffset.UtcNow));
        using var client = new HttpClient();
        using var answer = await client.SendAsync(delivery);

        answer.StatusCode.Should().Be(System.Net.HttpStatusCode.OK, await answer.Content.ReadAsStringAsync());
        (await browser.GetPageAsync("/account")).Should().Contain("id=\"subscription-status\">active");
        (await store.WithDbAsync(db => db.ProSubscriptions.SingleAsync())).SubscriptionId.Should().Be(renewed.SubscriptionId);
    }
}
