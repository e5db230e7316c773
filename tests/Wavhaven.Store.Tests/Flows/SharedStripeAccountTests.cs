using System.Net;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>
/// Several copies of the store on one Stripe account's test mode (developers' machines, staging, CI), or one store whose
/// database was recreated (the README's advice after a model change): each database numbers its orders from 1, and the
/// checkout's idempotency key was built from that number alone, so Stripe took a new order's checkout for a repeat of
/// another database's order with the same number, within its 24 hours.
/// </summary>
public sealed class SharedStripeAccountTests
{
    [Fact]
    public async Task TwoStoresOnOneStripeAccount_TheirFirstOrders_EachOpenTheirOwnCheckout()
    {
        await using var stripe = await StripeEmulator.StartAsync(new StripeEmulatorOptions());
        await using var staging = await StoreApp.StartOnSharedStripeAsync(stripe);
        await using var laptop = await StoreApp.StartOnSharedStripeAsync(stripe);

        using var stagingBuyer = staging.NewBrowser();
        await stagingBuyer.AddToCartAsync("low-tide");
        var stagingCheckout = await stagingBuyer.CheckoutCartAsync(guestEmail: "staging.buyer@example.com");

        using var laptopBuyer = laptop.NewBrowser();
        await laptopBuyer.AddToCartAsync("low-tide");
        using var response = await laptopBuyer.SubmitAsync("/cart", "/cart?handler=Checkout", new Dictionary<string, string> { ["email"] = "laptop.buyer@example.com" });

        response.StatusCode.Should().Be(HttpStatusCode.Redirect, "the laptop's first order is a new purchase, not a repeat of staging's order 1:\n{0}", await response.Content.ReadAsStringAsync());
        response.Headers.Location.Should().NotBe(stagingCheckout);
    }
}
