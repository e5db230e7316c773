using System.Net;
using Wavhaven.Store.Tests.Support;

namespace Wavhaven.Store.Tests.Flows;

/// <summary>The sign-in and register forms, posted with a field left empty (a client that skips the page's "required").</summary>
public sealed class AccountFormTests
{
    /// <summary>
    /// An empty field binds as null, and Identity throws on a null email or password: the store answered 500 (its error
    /// page, and an unhandled exception in the log) where it should say the form is incomplete.
    /// </summary>
    [Theory]
    [InlineData("/account/login", "known@example.com", "")]
    [InlineData("/account/login", "", "correct-horse-battery")]
    [InlineData("/account/register", "new@example.com", "")]
    public async Task AFormPostedWithAnEmptyField_IsShownAgainWithAnError_NotA500(string page, string email, string password)
    {
        await using var store = await StoreApp.StartAsync();
        using (var owner = store.NewBrowser())
        {
            await owner.RegisterAsync("known@example.com");
        }

        using var browser = store.NewBrowser();
        using var response = await browser.SubmitAsync(page, page, new Dictionary<string, string> { ["name"] = "Sam", ["email"] = email, ["password"] = password });

        response.StatusCode.Should().Be(HttpStatusCode.OK, "the form is shown again with what is missing");
        (await response.Content.ReadAsStringAsync()).Should().Contain("class=\"errors");
    }
}
