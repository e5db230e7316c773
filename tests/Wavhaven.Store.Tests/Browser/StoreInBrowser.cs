using System.Runtime.CompilerServices;
using Microsoft.Playwright;
using Wavhaven.Store.Tests.Support;
using Xunit.Abstractions;

namespace Wavhaven.Store.Tests.Browser;

/// <summary>
/// One browser test's world: the sample store on Kestrel loopback (with its in-process Stripe emulator, whose pages
/// are real pages on loopback too), and a fresh Chromium context (its own cookies and downloads) with one page.
/// Disposing it saves a screenshot of the page the test ended on, passed or failed.
/// </summary>
public sealed class StoreInBrowser : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly ITestOutputHelper _output;
    private readonly string _screenshotName;
    private readonly List<string> _serverErrors = [];

    private StoreInBrowser(StoreApp store, IBrowserContext context, IPage page, ITestOutputHelper output, string screenshotName)
    {
        Store = store;
        _context = context;
        Page = page;
        _output = output;
        _screenshotName = screenshotName;
        page.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                lock (_serverErrors)
                {
                    _serverErrors.Add($"{response.Status} {response.Request.Method} {response.Url}");
                }
            }
        };
    }

    public StoreApp Store { get; }

    public IPage Page { get; }

    /// <summary>Pages that answered 5xx while the test browsed, e.g. <c>500 GET http://127.0.0.1:…/account</c>.</summary>
    public IReadOnlyList<string> ServerErrors
    {
        get
        {
            lock (_serverErrors)
            {
                return [.. _serverErrors];
            }
        }
    }

    /// <param name="chromium">The shared browser.</param>
    /// <param name="output">Where the screenshot's path is printed.</param>
    /// <param name="testClass">The test's class, which names the screenshot with <paramref name="testName"/>.</param>
    /// <param name="testName">The test method, filled in by the compiler.</param>
    public static async Task<StoreInBrowser> StartAsync(ChromiumFixture chromium, ITestOutputHelper output, Type testClass, [CallerMemberName] string testName = "")
    {
        var browser = chromium.Browser;
        var store = await StoreApp.StartAsync();
        try
        {
            var context = await browser.NewContextAsync(new BrowserNewContextOptions
            {
                BaseURL = store.BaseAddress.ToString(),
                AcceptDownloads = true,
                Locale = "en-US",
                ViewportSize = new ViewportSize { Width = 1100, Height = 800 },
            });
            var page = await context.NewPageAsync();
            return new StoreInBrowser(store, context, page, output, testClass.Name + "." + testName);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var path = Screenshots.PathFor(_screenshotName);
            await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
            _output.WriteLine($"Screenshot of the final page ({Page.Url}): {path}");
        }
        catch (PlaywrightException exception)
        {
            // Never hide the test's own failure behind a failed screenshot.
            _output.WriteLine($"No screenshot of the final page: {exception.Message}");
        }

        await _context.CloseAsync();
        await Store.DisposeAsync();
    }
}

/// <summary>
/// Where the browser tests' screenshots go: <c>TestResults/screenshots/</c> in the test project's folder (beside the
/// default <c>dotnet test</c> results), or in the output folder when the project's folder cannot be found.
/// </summary>
public static class Screenshots
{
    public static string Directory { get; } = Locate();

    public static string PathFor(string name) => Path.Combine(Directory, name + ".png");

    private static string Locate()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Wavhaven.Store.Tests.csproj")))
        {
            folder = folder.Parent;
        }

        var screenshots = Path.Combine(folder?.FullName ?? AppContext.BaseDirectory, "TestResults", "screenshots");
        System.IO.Directory.CreateDirectory(screenshots);
        return screenshots;
    }
}
