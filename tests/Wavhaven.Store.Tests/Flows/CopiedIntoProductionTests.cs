using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Store.Data;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>
/// What a store copied from the sample would take into production: orders reached by number, the demo pages, an order
/// paid twice. Each test failed on the sample before its fix.
/// </summary>
public partial class CopiedIntoProductionTests
{
    /// <summary>
    /// Guest orders were addressed by their database id: whoever counted up could see any guest's order on the cancelled
    /// page and open a Checkout session for it (with the guest's email filled in).
    /// </summary>
    [Fact]
    public async Task AGuestsOrder_CannotBeReachedByItsNumber()
    {
        await using var store = await StoreApp.StartAsync();
        using var guest = store.NewBrowser();
        await guest.AddToCartAsync("golden-hour");
        await guest.CheckoutCartAsync(guestEmail: "private@example.com");
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());
        using var stranger = store.NewBrowser();

        var page = await stranger.GetPageAsync($"/checkout/cancelled?order={order.Id}");
        using var checkout = await stranger.PostFormAsync($"/orders/{order.Id}/checkout");

        page.Should().NotContain("id=\"order-status\"").And.NotContain("/checkout\"");
        checkout.StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await store.WithDbAsync(db => db.Orders.SingleAsync())).CheckoutAttempts.Should().Be(order.CheckoutAttempts, "no Checkout session was opened");
    }

    /// <summary>
    /// What Stripe sends the guest back to carries the order's public reference: 128 random bits in base64url, not the
    /// database id, and it is what the guest's pages and their "pay again" form use.
    /// </summary>
    [Fact]
    public async Task AGuestsCancelUrl_CarriesAnUnguessableReference_ThatReachesTheOrder()
    {
        await using var store = await StoreApp.StartAsync();
        using var guest = store.NewBrowser();
        await guest.AddToCartAsync("golden-hour");
        await guest.CheckoutCartAsync(guestEmail: "first@example.com");
        await guest.AddToCartAsync("low-tide");
        await guest.CheckoutCartAsync(guestEmail: "second@example.com");
        var orders = await store.WithDbAsync(db => db.Orders.OrderBy(o => o.Id).ToListAsync());

        var cancelUrls = new List<Uri>();
        foreach (var order in orders)
        {
            cancelUrls.Add(new Uri((await SessionAsync(store, order.CheckoutSessionId!))["cancel_url"]!.GetValue<string>()));
        }

        var references = cancelUrls.Select(url => System.Web.HttpUtility.ParseQueryString(url.Query)["order"]).ToList();
        references.Should().OnlyContain(reference => reference != null && Base64Url128Bits().IsMatch(reference), "a reference is 16 random bytes, base64url");
        references.Should().OnlyHaveUniqueItems();
        var page = await store.NewBrowser().GetPageAsync(cancelUrls[0].PathAndQuery);
        page.Should().Contain("id=\"order-status\">CREATED").And.Contain($"action=\"/orders/{references[0]}/checkout\"")
            .And.NotContain($"#{orders[0].Id}", "the database id stays internal");
    }

    /// <summary>The success page showed a registered user's order (its number and status) to whoever had its URL.</summary>
    [Fact]
    public async Task ARegisteredUsersOrder_OnTheSuccessPage_IsShownToThatUserOnly()
    {
        await using var store = await StoreApp.StartAsync();
        using var owner = store.NewBrowser();
        var checkoutUrl = await owner.StartRegisteredOrderAsync("owner@example.com");
        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        using var stranger = store.NewBrowser();
        await stranger.RegisterAsync("stranger@example.com");

        var strangers = await stranger.GetPageAsync(successUrl.PathAndQuery);
        var owners = await owner.GetPageAsync(successUrl.PathAndQuery);

        strangers.Should().Contain("id=\"paid\"").And.NotContain("id=\"order-status\"").And.NotContain("Welcome to Pro");
        owners.Should().Contain("id=\"order-status\">PAID");
    }

    /// <summary>
    /// /mailbox (every guest's email and download links) and /diagnostics were open to anyone wherever the store ran. They
    /// are for trying the store out: Development, or offline against the emulator; a deployed store answers 404. /health
    /// answers probes everywhere, with its status alone.
    /// </summary>
    [Theory]
    [InlineData("Production", true, false)]
    [InlineData("Development", true, true)]
    [InlineData("Production", false, true)]
    public async Task TheMailboxAndDiagnostics_ExistInDevelopmentOrOffline_Only(string environment, bool withStripeKeys, bool open)
    {
        await using var store = withStripeKeys ? await StoreApp.StartWithStripeKeysAsync(environment) : await StoreApp.StartAsync();
        using var browser = store.NewBrowser();

        using var mailbox = await browser.GetAsync("/mailbox");
        using var diagnostics = await browser.GetAsync("/diagnostics");
        using var health = await browser.GetAsync("/health");
        var home = await browser.GetPageAsync("/");

        mailbox.StatusCode.Should().Be(open ? HttpStatusCode.OK : HttpStatusCode.NotFound);
        diagnostics.StatusCode.Should().Be(open ? HttpStatusCode.OK : HttpStatusCode.NotFound);
        home.Contains("href=\"/mailbox\"", StringComparison.Ordinal).Should().Be(open, "the menu links only to pages that exist");
        (await health.Content.ReadAsStringAsync()).Should().BeOneOf(["Healthy", "Degraded", "Unhealthy"], "a probe is told the status and nothing else");
    }

    /// <summary>
    /// Two Checkout sessions of one CREATED order, both paid. The order is fulfilled once (the handler skipped a PAID
    /// order), but the second payment was kept without a word: it is recorded as owed back, logged, and the buyer is told.
    /// The store now expires an order's earlier session before it opens another (<see cref="OneOpenCheckoutTests"/>), so
    /// this is the last line of defence: the second session here is opened past that guard, as one could be by code that
    /// does not go through <c>OrderCheckout</c>.
    /// </summary>
    [Fact]
    public async Task AnOrderPaidThroughTwoCheckouts_IsFulfilledOnce_AndTheSecondPaymentIsOwedARefund()
    {
        await using var store = await StoreApp.StartAsync();
        using var guest = store.NewBrowser();
        await guest.AddToCartAsync("low-tide");
        var firstTab = await guest.CheckoutCartAsync(guestEmail: "two.tabs@example.com");
        var order = await store.WithDbAsync(db => db.Orders.Include(o => o.Items).SingleAsync());
        var firstSession = order.CheckoutSessionId!;
        var cancelUrl = new Uri((await SessionAsync(store, firstSession))["cancel_url"]!.GetValue<string>());
        var secondTab = await OpenPastTheGuardAsync(store, order, cancelUrl);

        await store.Emulator.CompleteCheckoutAsync(firstTab.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        var secondSuccess = await store.Emulator.CompleteCheckoutAsync(secondTab.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        var page = await guest.GetPageAsync(secondSuccess.PathAndQuery);

        (await store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(1, "the order is fulfilled once");
        (await store.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(1);
        page.Should().Contain("id=\"order-status\">PAID").And.Contain("id=\"refund-owed\"").And.Contain("24.00 USD");
        var secondSession = System.Web.HttpUtility.ParseQueryString(secondSuccess.Query)["session_id"]!;
        var owed = await store.WithDbAsync(db => db.OwedRefunds.SingleAsync());
        owed.SessionId.Should().Be(secondSession);
        owed.PaymentIntentId.Should().Be((await SessionAsync(store, secondSession))["payment_intent"]!.GetValue<string>());
        owed.AmountCents.Should().Be(2400);
        (await store.WithDbAsync(db => db.Orders.SingleAsync())).PaidSessionId.Should().Be(firstSession);
        (await guest.GetPageAsync($"/checkout/success?session_id={firstSession}")).Should().NotContain("id=\"refund-owed\"", "the first payment paid the order");
        (await guest.GetPageAsync("/diagnostics")).Should().Contain("class=\"refund-owed\"").And.Contain(owed.PaymentIntentId);
    }

    /// <summary>Opens a second session for the order as <c>OrderCheckout.StartAsync</c> would, without expiring the first.</summary>
    private static async Task<Uri> OpenPastTheGuardAsync(StoreApp store, Order order, Uri cancelUrl)
    {
        using var scope = store.Services.CreateScope();
        var session = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest(order.GuestEmail!, userId: "order-" + order.Reference),
            Lines = [.. order.Items.Select(item => CheckoutLine.Item(item.Title + " (beat licence)", item.PriceCents, "usd"))],
            FulfillmentType = Services.OrderCheckout.FulfillmentType,
            Metadata = new Dictionary<string, string> { [Services.OrderCheckout.OrderReferenceKey] = order.Reference },
            SuccessUrl = new Uri(store.BaseAddress, "checkout/success?session_id={CHECKOUT_SESSION_ID}").ToString(),
            CancelUrl = cancelUrl.ToString(),
        });
        return session.Url;
    }

    private static async Task<JsonNode> SessionAsync(StoreApp store, string sessionId)
    {
        using var client = new HttpClient(new HttpClientHandler { UseProxy = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", store.Emulator.SecretKey);
        return JsonNode.Parse(await client.GetStringAsync(new Uri(store.Emulator.BaseUrl, "v1/checkout/sessions/" + sessionId)))!;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{22}$")]
    private static partial Regex Base64Url128Bits();
}
