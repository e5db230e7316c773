using System.Net;
using System.Text.RegularExpressions;

namespace Wavhaven.Store.Tests.Support;

/// <summary>The steps a shopper takes, over HTTP.</summary>
public static partial class StoreFlows
{
    public static async Task RegisterAsync(this Browser browser, string email, string name = "Sam Buyer", string password = "correct-horse-battery")
    {
        using var response = await browser.SubmitAsync("/account/register", "/account/register", new Dictionary<string, string>
        {
            ["name"] = name,
            ["email"] = email,
            ["password"] = password,
        });
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
    }

    public static async Task AddToCartAsync(this Browser browser, params string[] beatIds)
    {
        foreach (var beatId in beatIds)
        {
            using var response = await browser.SubmitAsync("/", "/?handler=Add", new Dictionary<string, string> { ["beatId"] = beatId });
            response.StatusCode.Should().Be(HttpStatusCode.Redirect);
        }
    }

    /// <summary>Checks the cart out and returns the Stripe Checkout URL the store redirected to.</summary>
    public static async Task<Uri> CheckoutCartAsync(this Browser browser, string? guestEmail = null)
    {
        var fields = new Dictionary<string, string>();
        if (guestEmail is not null)
        {
            fields["email"] = guestEmail;
        }

        using var response = await browser.SubmitAsync("/cart", "/cart?handler=Checkout", fields);
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!;
    }

    /// <summary>Registers <paramref name="email"/> and checks out one beat without paying: the order waits in CREATED.</summary>
    public static async Task<Uri> StartRegisteredOrderAsync(this Browser browser, string email, string beatId = "concrete-bloom")
    {
        await browser.RegisterAsync(email);
        await browser.AddToCartAsync(beatId);
        return await browser.CheckoutCartAsync();
    }

    public static async Task<Uri> RedirectOfAsync(this Browser browser, string pageUrl, string postUrl, IDictionary<string, string> fields)
    {
        using var response = await browser.SubmitAsync(pageUrl, postUrl, fields);
        response.StatusCode.Should().Be(HttpStatusCode.Redirect, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!;
    }

    public static IReadOnlyList<string> DownloadLinks(string html) =>
        [.. DownloadLink().Matches(html).Select(match => WebUtility.HtmlDecode(match.Groups["href"].Value))];

    [GeneratedRegex("<a class=\"download\" href=\"(?<href>[^\"]+)\"")]
    private static partial Regex DownloadLink();

    /// <summary>Subscribes the signed-in user to Pro, monthly, and waits until the account shows it active.</summary>
    public static async Task SubscribeToProAsync(this Browser browser, StoreApp store)
    {
        var checkoutUrl = await browser.RedirectOfAsync("/pro", "/pro?handler=Subscribe", new Dictionary<string, string> { ["interval"] = "month" });
        await store.Emulator.CompleteCheckoutAsync(checkoutUrl.ToString());
        await store.Emulator.WaitForDeliveriesAsync();
        (await browser.GetPageAsync("/account")).Should().Contain("id=\"subscription-status\">active");
    }

    /// <summary>Cancels the user's Pro in the portal and moves the clock past its period, until the account shows it canceled.</summary>
    public static async Task EndProAsync(this Browser browser, StoreApp store)
    {
        var billingUrl = await browser.RedirectOfAsync("/account", "/account?handler=Billing", new Dictionary<string, string>());
        await SubmitPortalFormAsync(billingUrl, "cancel");
        await store.Emulator.AdvanceClockAsync(TimeSpan.FromDays(40));
        await store.Emulator.WaitForDeliveriesAsync();
        (await browser.GetPageAsync("/account")).Should().Contain("id=\"subscription-status\">canceled");
    }

    /// <summary>Presses the portal page's button for <paramref name="action"/>, as the buyer would.</summary>
    public static async Task SubmitPortalFormAsync(Uri portalUrl, string action)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseProxy = false });
        var html = await client.GetStringAsync(portalUrl);
        var form = PortalForm().Matches(html).Select(match => match.Value).FirstOrDefault(f => f.Contains($"name=\"action\" value=\"{action}\"", StringComparison.Ordinal))
            ?? throw new InvalidOperationException($"The portal page has no '{action}' form:\n{html}");
        var fields = HiddenField().Matches(form).ToDictionary(m => m.Groups["name"].Value, m => WebUtility.HtmlDecode(m.Groups["value"].Value));
        var target = new Uri(portalUrl, WebUtility.HtmlDecode(FormAction().Match(form).Groups["action"].Value));
        using var response = await client.PostAsync(target, new FormUrlEncodedContent(fields));
        ((int)response.StatusCode).Should().BeOneOf([200, 302, 303], await response.Content.ReadAsStringAsync());
    }

    [GeneratedRegex("<form[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex PortalForm();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]+)\" value=\"(?<value>[^\"]*)\"")]
    private static partial Regex HiddenField();

    [GeneratedRegex("action=\"(?<action>[^\"]+)\"")]
    private static partial Regex FormAction();
}
