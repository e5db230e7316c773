using Microsoft.Playwright;

namespace Wavhaven.Store.Tests.Browser;

/// <summary>
/// Debian's Chromium (<c>apt-get install chromium</c>), driven by Playwright, launched once for the browser tests.
/// Playwright's own browser builds are never downloaded or used: the launch names the executable.
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>
    /// Headless, with no sandbox (the tests run as root in CI), and with every background connection to Google
    /// switched off: the machine has no network but loopback. Playwright gives each launch a fresh, empty
    /// user-data directory of its own and deletes it on close.
    /// </summary>
    private static readonly string[] Flags =
    [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string NotInstalledMessage =>
        $"Chromium is not installed at {ExecutablePath}. Install Debian's package (`apt-get install chromium`; .ci/run does it) to run the browser tests. Outside CI they are skipped without it; with CI=true they fail.";

    /// <summary>The running browser; throws, naming the fix, when Chromium is not installed.</summary>
    public IBrowser Browser => _browser ?? throw new InvalidOperationException(NotInstalledMessage);

    public async Task InitializeAsync()
    {
        // Without Chromium the tests are skipped (or, in CI, fail through Browser): start nothing.
        if (!IsInstalled)
        {
            return;
        }

        // The webhook-driven steps wait for the emulator explicitly; the rest must not flake on a busy 2-core machine.
        Assertions.SetDefaultExpectTimeout(15_000);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = Flags,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

/// <summary>The browser tests share one Chromium and run one at a time (each with its own store and browser context).</summary>
[CollectionDefinition(Name)]
public sealed class ChromiumCollection : ICollectionFixture<ChromiumFixture>
{
    public const string Name = "Chromium";
}

/// <summary>
/// A test that drives Chromium. Without <c>/usr/bin/chromium</c> it is skipped on a developer's machine, but still
/// runs when <c>CI=true</c>, and fails saying how to install Chromium: CI can never pass by skipping the browser.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute()
    {
        if (!ChromiumFixture.IsInstalled && !ChromiumFixture.IsCi)
        {
            Skip = ChromiumFixture.NotInstalledMessage;
        }
    }
}
