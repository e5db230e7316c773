using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Store.Fulfillment;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>The README's guidance for apps, checked against the sample that developers copy.</summary>
public class ReadmeGuidanceTests
{
    /// <summary>
    /// The README: a guest's subscription carries the id the app gave the guest, "which may equal a registered user's id,
    /// so check IsGuest before matching an account". A guest Pro subscription (another app on the account, or a guest Pro
    /// offer added to the copied store) whose guest id equals a member's id must not give that member Pro.
    /// </summary>
    [Fact]
    public async Task AGuestsProSubscription_WhoseGuestIdIsARegisteredUsersId_DoesNotGiveThatUserPro()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("member@example.com");
        var userId = await store.WithDbAsync(db => db.Users.Select(u => u.Id).SingleAsync());

        using (var scope = store.Services.CreateScope())
        {
            var session = await scope.ServiceProvider.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
            {
                Buyer = CheckoutBuyer.Guest("stranger@example.com", userId: userId),
                Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
                FulfillmentType = ProCheckoutHandler.FulfillmentType,
                Metadata = new Dictionary<string, string> { ["interval"] = "month" },
                SuccessUrl = new Uri(store.BaseAddress, "checkout/success?session_id={CHECKOUT_SESSION_ID}").ToString(),
                CancelUrl = new Uri(store.BaseAddress, "pro").ToString(),
            });
            await store.Emulator.CompleteCheckoutAsync(session.Url.ToString());
        }

        await store.Emulator.WaitForDeliveriesAsync();

        (await store.WithDbAsync(db => db.ProSubscriptions.AnyAsync(row => row.UserId == userId)))
            .Should().BeFalse("a stranger's guest subscription is not the member's");
        (await browser.GetPageAsync("/account")).Should().Contain("id=\"no-subscription\"");
    }
}
