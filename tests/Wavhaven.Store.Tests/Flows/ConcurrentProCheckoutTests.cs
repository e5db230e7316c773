using System.Net;
using System.Text.RegularExpressions;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>
/// Two tabs of one user pressing "Subscribe" at the same moment (or a second tab pressed while the first one's request is
/// still talking to Stripe): each request reads the user's earlier Pro session before the other has saved its own, so
/// neither expires the other's, and both Stripe pages can be paid.
/// </summary>
public sealed partial class ConcurrentProCheckoutTests
{
    [Fact]
    public async Task TwoProCheckoutsAtOnce_LeaveOneSessionPayable_SoOneSubscriptionIsMade()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("pro.same.moment@example.com");

        // Each tab loads the Pro page first (its form and token), then both submit together.
        var tokens = new List<string>();
        for (var tab = 0; tab < 2; tab++)
        {
            tokens.Add(WebUtility.HtmlDecode(AntiforgeryToken().Match(await browser.GetPageAsync("/pro")).Groups["token"].Value));
        }

        var responses = await Task.WhenAll(tokens.Select(token => browser.PostAsync("/pro?handler=Subscribe", new Dictionary<string, string>
        {
            ["interval"] = "month",
            ["__RequestVerificationToken"] = token,
        })));

        var checkoutPages = responses.Where(r => r.StatusCode == HttpStatusCode.Redirect).Select(r => r.Headers.Location!)
            .Where(location => location.ToString().Contains("/checkout/", StringComparison.Ordinal) && !location.ToString().Contains("/checkout/success", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        var paid = 0;
        foreach (var page in checkoutPages)
        {
            try
            {
                await store.Emulator.CompleteCheckoutAsync(page.ToString());
                paid++;
            }
            catch (InvalidOperationException)
            {
                // Expired: this tab can no longer be paid.
            }
        }

        await store.Emulator.WaitForDeliveriesAsync();
        paid.Should().Be(1, "one user, one Pro: the two tabs got {0} payable Stripe pages ({1})", checkoutPages.Count, string.Join(", ", checkoutPages));
        store.Emulator.Events.Count(e => e.Type == "customer.subscription.created").Should().Be(1, "two subscriptions bill the user twice every month");
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
