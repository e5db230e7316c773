using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>A guest buys with only an email, pays on the emulator's Checkout page, and downloads from the emailed links.</summary>
public class GuestPurchaseTests
{
    [Fact]
    public async Task GuestBuysTwoLicences_WebhookPaysTheOrder_AndTheEmailedLinksDownload()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("midnight-drive", "golden-hour");

        var checkoutUrl = await browser.CheckoutCartAsync(guestEmail: "guest.buyer@example.com");
        checkoutUrl.ToString().Should().StartWith(store.Emulator.BaseUrl.ToString());
        var order = await store.WithDbAsync(db => db.Orders.Include(o => o.Items).SingleAsync());
        order.Status.Should().Be(OrderStatus.Created);
        order.Items.Select(i => i.BeatId).Should().BeEquivalentTo("midnight-drive", "golden-hour");

        var successUrl = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        await store.Emulator.WaitForDeliveriesAsync();

        // The webhook, not the success page, paid the order: the buyer has not come back yet.
        order = await store.WithDbAsync(db => db.Orders.SingleAsync());
        order.Status.Should().Be(OrderStatus.Paid);
        store.Emulator.Deliveries.Should().Contain(d => d.EventType == "checkout.session.completed" && d.StatusCode == 200);

        var success = await browser.GetPageAsync(successUrl.PathAndQuery);
        success.Should().Contain("id=\"order-status\">PAID");

        var mailbox = await browser.GetPageAsync("/mailbox");
        (await store.WithDbAsync(db => db.Mailbox.ToListAsync())).Should().ContainSingle()
            .Which.To.Should().Be("guest.buyer@example.com");
        var links = StoreFlows.DownloadLinks(mailbox);
        links.Should().HaveCount(2);
        foreach (var link in links)
        {
            using var download = await browser.GetAsync(new Uri(link).PathAndQuery);
            download.StatusCode.Should().Be(HttpStatusCode.OK);
            download.Content.Headers.ContentType!.MediaType.Should().Be("audio/wav");
            (await download.Content.ReadAsByteArrayAsync()).AsSpan(0, 4).ToArray().Should().Equal("RIFF"u8.ToArray());
        }

        var licenses = await store.WithDbAsync(db => db.Licenses.ToListAsync());
        licenses.Should().HaveCount(2).And.OnlyContain(l => l.UserId == null && l.OrderId == order.Id);
    }

    /// <summary>
    /// The success page's session id comes from the address bar. "." and ".." would be resolved out of the path to
    /// Stripe (to the list of sessions): the library refuses them, and the page answers 400 as for a missing id.
    /// </summary>
    [Fact]
    public async Task SuccessPage_WithAnIdThatIsNoSession_IsRefused()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();

        using var dot = await browser.GetAsync("/checkout/success?session_id=.");
        using var dots = await browser.GetAsync("/checkout/success?session_id=..");
        using var unknown = await browser.GetAsync("/checkout/success?session_id=cs_test_nobody");

        dot.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        dots.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await dots.Content.ReadAsStringAsync()).Should().Contain("not a checkout session id");
        unknown.StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TamperedOrExpiredDownloadLink_IsRefused()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("low-tide");
        var checkoutUrl = await browser.CheckoutCartAsync(guestEmail: "links@example.com");
        await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        var link = new Uri(StoreFlows.DownloadLinks(await browser.GetPageAsync("/mailbox")).Single());
        var token = link.Segments[^1];
        var license = await store.WithDbAsync(db => db.Licenses.SingleAsync());

        var tampered = "/download/" + token[..^3] + (token[^3] == 'A' ? 'B' : 'A') + token[^2..];
        using var tamperedResponse = await browser.GetAsync(tampered);
        var expiredToken = store.Services.GetRequiredService<DownloadLinks>().CreateToken(license.Id, DateTimeOffset.UtcNow.AddMinutes(-1));
        using var expiredResponse = await browser.GetAsync("/download/" + expiredToken);
        using var validResponse = await browser.GetAsync(link.PathAndQuery);

        tamperedResponse.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        expiredResponse.StatusCode.Should().Be(HttpStatusCode.Gone);
        (await expiredResponse.Content.ReadAsStringAsync()).Should().Contain("expired");
        validResponse.StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task DeclinedCard_LeavesTheOrderCreated()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("neon-rain");
        var checkoutUrl = await browser.CheckoutCartAsync(guestEmail: "declined@example.com");

        var stayedOn = await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString(), EmulatedPayment.Declined);
        await store.Emulator.WaitForDeliveriesAsync();

        stayedOn.Should().Be(checkoutUrl);
        (await store.WithDbAsync(db => db.Orders.SingleAsync())).Status.Should().Be(OrderStatus.Created);
        (await store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(0);
        (await store.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(0);
    }

    [Fact]
    public async Task CheckoutOfAPaidOrder_IsRefusedWith409()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("paper-planes");
        var checkoutUrl = await browser.CheckoutCartAsync(guestEmail: "twice@example.com");
        await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());

        using var again = await browser.PostFormAsync($"/orders/{order.Reference}/checkout");

        again.StatusCode.Should().Be(HttpStatusCode.Conflict);
        (await again.Content.ReadAsStringAsync()).Should().Contain($"Order {order.Reference} is PAID").And.Contain("only a CREATED order can be checked out");
    }

    [Fact]
    public async Task CancelledCheckout_CanBeRetried_AndIsPaidOnce()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("golden-hour");
        await browser.CheckoutCartAsync(guestEmail: "retry@example.com");
        var order = await store.WithDbAsync(db => db.Orders.SingleAsync());

        var cancelled = await browser.GetPageAsync($"/checkout/cancelled?order={order.Reference}");
        cancelled.Should().Contain("id=\"order-status\">CREATED");
        using var retry = await browser.SubmitAsync($"/checkout/cancelled?order={order.Reference}", $"/orders/{order.Reference}/checkout", new Dictionary<string, string>()); // the page's own form and token
        retry.StatusCode.Should().Be(HttpStatusCode.Redirect);
        var successUrl = await store.Emulator.CompleteCheckoutAsync(retry.Headers.Location!.ToString());
        var success = await browser.GetPageAsync(successUrl.PathAndQuery);
        await store.Emulator.WaitForDeliveriesAsync();

        success.Should().Contain("id=\"order-status\">PAID");
        (await store.WithDbAsync(db => db.Licenses.CountAsync())).Should().Be(1);
        (await store.WithDbAsync(db => db.Mailbox.CountAsync())).Should().Be(1, "the success page and the webhook must fulfil the order once");
    }
}
