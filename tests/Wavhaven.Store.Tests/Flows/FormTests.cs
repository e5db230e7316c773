using System.Net;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>The store's forms post what their targets accept: each carries its own antiforgery token.</summary>
public partial class FormTests
{
    [Fact]
    public async Task EveryPostFormOnTheStoresPages_CarriesItsOwnAntiforgeryToken()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.StartRegisteredOrderAsync("forms@example.com");
        var reference = await store.WithDbAsync(db => db.Orders.Select(o => o.Reference).SingleAsync());
        await browser.AddToCartAsync("golden-hour");

        var forms = new List<string>();
        foreach (var page in new[] { "/", "/cart", "/pro", "/account", $"/checkout/cancelled?order={reference}" })
        {
            forms.AddRange(PostForms().Matches(await browser.GetPageAsync(page)).Select(form => page + ": " + form.Value));
        }

        forms.Should().Contain(form => form.Contains("action=\"/account/logout\"")).And.Contain(form => form.Contains($"action=\"/orders/{reference}/checkout\""));
        forms.Should().OnlyContain(form => form.Contains("name=\"__RequestVerificationToken\""), "a form without its token is refused by its target");
    }

    [Fact]
    public async Task SigningOut_WithTheLayoutsForm_EndsTheSession()
    {
        await using var store = await StoreApp.StartAsync();
        using var browser = store.NewBrowser();
        await browser.RegisterAsync("leaving@example.com");
        var home = await browser.GetPageAsync("/");
        var logout = PostForms().Matches(home).Single(form => form.Value.Contains("action=\"/account/logout\""));
        var token = Token().Match(logout.Value);
        token.Success.Should().BeTrue("the sign-out form carries its token");

        using var signedOut = await browser.PostAsync("/account/logout", new Dictionary<string, string> { ["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups["token"].Value) });
        using var account = await browser.GetAsync("/account");

        signedOut.StatusCode.Should().Be(HttpStatusCode.Redirect);
        account.StatusCode.Should().Be(HttpStatusCode.Redirect, "the account page asks a signed-out visitor to sign in");
        account.Headers.Location!.ToString().Should().Contain("/account/login");
    }

    [GeneratedRegex("<form\\b[^>]*method=\"post\"[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex PostForms();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex Token();
}
