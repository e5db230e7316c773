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
}
