using System.Net;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>The diagnostics page shows the library's live metrics; the health check reports the emulated Stripe healthy.</summary>
public class DiagnosticsTests
{
    [Fact]
    public async Task AfterAPurchase_TheDiagnosticsPageShowsWebhookAndStripeCallCounters()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.AddToCartAsync("midnight-drive");
        var checkoutUrl = await browser.CheckoutCartAsync(guestEmail: "metrics@example.com");
        await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        await store.Emulator.WaitForDeliveriesAsync();

        var page = await browser.GetPageAsync("/diagnostics");
        using var health = await browser.GetAsync("/health");

        page.Should().Contain("wavhaven.payments.webhook.events")
            .And.Contain("outcome=processed, stripe.event.type=checkout.session.completed")
            .And.Contain("wavhaven.payments.stripe.request.duration")
            .And.Contain("stripe.endpoint=/v1/checkout/sessions")
            .And.Contain("id=\"health-status\">Healthy")
            .And.NotContain("metrics@example.com");
        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }
}
