using System.Net;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>
/// One purchase, one payable Checkout session: a new checkout for an order (or for Pro) expires the one opened before it,
/// so that a buyer with two tabs cannot pay twice. Each test failed on the sample before it expired anything.
/// </summary>
public sealed class OneOpenCheckoutTests
{
    /// <summary>
    /// "Try paying again" on the cancelled page, while the first Stripe tab is still open: both sessions could be paid,
    /// and the order was paid twice (the second payment owed back).
    /// </summary>
    [Fact]
    public async Task ASecondCheckoutOfAnOrder_ExpiresTheFirst_WhichCanNoLongerBePaid()
    {
        await using var store = await StoreApp.StartAsync();
        using var guest = store.NewBrowser();
        await guest.AddToCartAsync("low-tide");
        var firstTab = await guest.CheckoutCartAsync(guestEmail: "two.tabs@example.com");
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());
        var firstSession = order.CheckoutSessionId!;

        var secondTab = await guest.RedirectOfAsync($"/checkout/cancelled?order={order.Reference}", $"/orders/{order.Reference}/checkout", new Dictionary<string, string>());

        secondTab.Should().NotBe(firstTab);
        using var buyer = new HttpClient(new HttpClientHandler { UseProxy = false });
        using var firstPage = await buyer.GetAsync(firstTab);
        firstPage.StatusCode.Should().Be(HttpStatusCode.Gone, "the first Stripe tab shows the session expired");
        await FluentActions.Awaiting(() => store.Emulator.CompleteCheckoutAsync(firstTab.ToString())).Should().ThrowAsync<InvalidOperationException>();
        var success = await store.Emulator.CompleteCheckoutAsync(secondTab.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        (await guest.GetPageAsync(success.PathAndQuery)).Should().Contain("id=\"order-status\">PAID");
        store.Emulator.Events.Where(e => e.Type == "checkout.session.expired").Select(e => e.DataObject()["id"]!.GetValue<string>())
            .Should().Equal(firstSession);
        (await store.WithDbAsync(db => db.OwedRefunds.CountAsync())).Should().Be(0, "nothing was paid twice");
        (await store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(1);
    }

    /// <summary>
    /// The first tab was paid by bank debit (complete, the money on its way, the order still CREATED), then the buyer pressed
    /// "Try paying again": a second session was opened, and paying it took the money twice once the debit cleared.
    /// </summary>
    [Fact]
    public async Task ASecondCheckout_AfterTheFirstWasCompleted_OpensNothing_AndShowsTheFirstsProgress()
    {
        await using var store = await StoreApp.StartAsync();
        using var guest = store.NewBrowser();
        await guest.AddToCartAsync("low-tide");
        var firstTab = await guest.CheckoutCartAsync(guestEmail: "debit.then.retry@example.com");
        await store.Emulator.CompleteCheckoutAsync(firstTab.ToString(), EmulatedPayment.DelayedBankDebit);
        await store.Emulator.WaitForDeliveriesAsync();
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());
        order.Status.Should().Be(OrderStatus.Created, "the debit has not cleared");

        var sentTo = await guest.RedirectOfAsync($"/checkout/cancelled?order={order.Reference}", $"/orders/{order.Reference}/checkout", new Dictionary<string, string>());

        sentTo.PathAndQuery.Should().Be("/checkout/success?session_id=" + order.CheckoutSessionId);
        (await guest.GetPageAsync(sentTo.PathAndQuery)).Should().Contain("id=\"pending\"");
        (await store.WithDbAsync(db => db.Orders.SingleAsync())).CheckoutAttempts.Should().Be(1, "no second session was opened");
        store.Emulator.Events.Should().NotContain(e => e.Type == "checkout.session.expired");
    }

    /// <summary>Two Pro checkouts opened one after the other (two tabs): paying both made two subscriptions, each billed every month.</summary>
    [Fact]
    public async Task ASecondProCheckout_ExpiresTheFirst_SoOneSubscriptionIsMade()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("pro.two.tabs@example.com");
        var fields = new Dictionary<string, string> { ["interval"] = "month" };
        var firstTab = await browser.RedirectOfAsync("/pro", "/pro?handler=Subscribe", fields);

        var secondTab = await browser.RedirectOfAsync("/pro", "/pro?handler=Subscribe", fields);

        await FluentActions.Awaiting(() => store.Emulator.CompleteCheckoutAsync(firstTab.ToString())).Should().ThrowAsync<InvalidOperationException>();
        await store.Emulator.CompleteCheckoutAsync(secondTab.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        store.Emulator.Events.Count(e => e.Type == "customer.subscription.created").Should().Be(1);
        (await browser.GetPageAsync("/account")).Should().Contain("id=\"subscription-status\">active");
        (await store.WithDbAsync(db => db.Users.SingleAsync())).ProCheckoutSessionId.Should().BeNull("the paid checkout is done with: the next one, after Pro ends, expires nothing");
    }
}
