using System.Net;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>
/// One Stripe account, two store databases: a staging and a developer's store on one test account (each behind its own
/// endpoint or <c>stripe listen</c>), or one store whose database was recreated (as the README asks after a model change)
/// or restored from a backup. The order ids (1, 2, …) repeat across them; Stripe's idempotency keys (kept 24 hours) and
/// its events (sent to every endpoint of the account) do not know which database they came from.
/// </summary>
public class SharedStripeAccountTests
{
    [Fact]
    public async Task TwoStoresOnOneAccount_EachOpensACheckoutOfItsOwnCart()
    {
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions());
        await using var first = await StoreApp.StartOnSharedStripeAsync(stripe);
        await using var second = await StoreApp.StartOnSharedStripeAsync(stripe);
        using var firstGuest = first.NewBrowser();
        using var secondGuest = second.NewBrowser();
        await firstGuest.AddToCartAsync("midnight-drive");
        await secondGuest.AddToCartAsync("concrete-bloom");

        await firstGuest.CheckoutCartAsync(guestEmail: "first.guest@example.com");
        using var response = await secondGuest.SubmitAsync("/cart", "/cart?handler=Checkout", new Dictionary<string, string> { ["email"] = "second.guest@example.com" });

        // Both stores' first order is order 1, and its checkout's idempotency key was "order-1-checkout-1" in both: Stripe
        // refuses the second store's request (same key, other parameters) for 24 hours, with an idempotency_error.
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, "the second store's guest should be sent to Stripe Checkout, but the store answered:\n{0}", await response.Content.ReadAsStringAsync());
        response.Headers.Location!.ToString().Should().StartWith(stripe.BaseUrl.ToString());
    }

    [Fact]
    public async Task APaymentInOneStore_DoesNotPayTheOtherStoresOrderOfTheSameId()
    {
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions());
        await using var first = await StoreApp.StartOnSharedStripeAsync(stripe);
        await using var second = await StoreApp.StartOnSharedStripeAsync(stripe);
        using var firstGuest = first.NewBrowser();
        await firstGuest.AddToCartAsync("midnight-drive");
        var checkoutUrl = await firstGuest.CheckoutCartAsync(guestEmail: "first.guest@example.com");

        // The second store's guest orders too (order 1 there as well), and has not paid when the first store's guest does.
        using var secondGuest = second.NewBrowser();
        await secondGuest.AddToCartAsync("concrete-bloom");
        using (await secondGuest.SubmitAsync("/cart", "/cart?handler=Checkout", new Dictionary<string, string> { ["email"] = "second.guest@example.com" }))
        {
        }

        (await second.WithDbAsync(db => db.Orders.SingleAsync())).Status.Should().Be(OrderStatus.Created);
        await stripe.CompleteCheckoutAsync(checkoutUrl.ToString());
        await stripe.WaitForDeliveriesAsync();

        (await first.WithDbAsync(db => db.Orders.SingleAsync())).Status.Should().Be(OrderStatus.Paid);
        // The second store received the first store's checkout.session.completed (every endpoint of the account does) and
        // read only its metadata's order_id, 1: it marked its own, unpaid order 1 paid and mailed its guest the licences.
        (await second.WithDbAsync(db => db.Orders.SingleAsync())).Status.Should().Be(OrderStatus.Created, "nobody paid the second store's order");
        (await second.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(0, "the second store's guest paid nothing");
    }
}
