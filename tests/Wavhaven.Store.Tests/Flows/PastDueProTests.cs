using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>A Pro member whose renewal failed: the subscription is past_due, still alive at Stripe, and retried.</summary>
public sealed class PastDueProTests
{
    /// <summary>
    /// The account page offered "Subscribe again" for any subscription that is not active or trialing, and the Pro page
    /// opened a new checkout for it. A past_due subscription has not ended: Stripe retries its invoice and bills its next
    /// periods. The member who followed the link (the only one offered: "Manage billing", where the card is updated, is
    /// shown to active members only) got a second subscription beside the first, both billing once the first recovers.
    /// </summary>
    [Fact]
    public async Task APastDueMember_IsSentToTheBillingPortal_NotIntoASecondSubscription()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("card.expired@example.com");
        await browser.SubscribeToProAsync(store);
        var subscriptionId = await store.WithDbAsync(db => db.ProSubscriptions.Select(s => s.SubscriptionId).SingleAsync());
        store.Emulator.FailNextRenewal(subscriptionId);
        await store.Emulator.AdvanceClockAsync(TimeSpan.FromDays(32));
        await store.Emulator.WaitForDeliveriesAsync();
        var account = await browser.GetPageAsync("/account");
        account.Should().Contain("id=\"subscription-status\">past_due");

        using var subscribe = await browser.SubmitAsync("/pro", "/pro?handler=Subscribe", new Dictionary<string, string> { ["interval"] = "month" });
        var target = subscribe.Headers.Location?.ToString() ?? "";
        if (target.StartsWith(store.Emulator.BaseUrl.ToString(), StringComparison.Ordinal))
        {
            // What the member does on the Stripe page the store sent them to.
            await store.Emulator.CompleteCheckoutAsync(target);
            await store.Emulator.WaitForDeliveriesAsync();
        }

        (await LiveSubscriptionsAsync(store)).Should().Equal([subscriptionId], "a past_due subscription is still alive at Stripe: a second one would bill the member twice");
        account.Should().Contain("id=\"manage-billing\"", "a past_due member fixes the card in the billing portal").And.NotContain("Subscribe again");
    }

    /// <summary>The ids of the subscriptions Stripe has not ended (its list without a status leaves out the canceled).</summary>
    private static async Task<IReadOnlyList<string>> LiveSubscriptionsAsync(StoreApp store)
    {
        using var client = new HttpClient(new HttpClientHandler { UseProxy = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", store.Emulator.SecretKey);
        var list = JsonNode.Parse(await client.GetStringAsync(new Uri(store.Emulator.BaseUrl, "v1/subscriptions")))!;
        return [.. list["data"]!.AsArray().Select(s => s!["id"]!.GetValue<string>())];
    }
}
