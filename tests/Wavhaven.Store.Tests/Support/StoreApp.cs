using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Testing;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Tests.Support;

/// <summary>
/// The sample store on Kestrel (loopback, any free port) with no Stripe configuration, so it starts the
/// Stripe emulator in-process, exactly as <c>dotnet run</c> does on a fresh clone. A fresh SQLite file per app.
/// </summary>
public sealed partial class StoreApp : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly string _databasePath;
    private StripeEmulator? _ownEmulator;

    private StoreApp(WebApplicationFactory<Program> factory, string databasePath, StripeEmulator? stripe)
    {
        _factory = factory;
        _databasePath = databasePath;
        _ownEmulator = stripe;
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
        Emulator = stripe ?? factory.Services.GetRequiredService<OfflineStripe>().Emulator;
    }

    public Uri BaseAddress { get; }

    public StripeEmulator Emulator { get; }

    public IServiceProvider Services => _factory.Services;

    /// <param name="settings">Configuration to change, e.g. <c>Stripe:Plans:0:Prices:0:Currency</c>.</param>
    public static Task<StoreApp> StartAsync(IReadOnlyDictionary<string, string>? settings = null) => StartAsync("Testing", stripe: null, settings);

    /// <summary>
    /// The store in <paramref name="environment"/> configured with Stripe keys, as deployed, so not offline: its keys are an
    /// emulator's that the app does not start itself (this <see cref="StoreApp"/> owns it and stops it).
    /// </summary>
    public static async Task<StoreApp> StartWithStripeKeysAsync(string environment) =>
        await StartAsync(environment, await StripeEmulator.StartAsync(new StripeEmulatorOptions()), settings: null);

    /// <summary>
    /// The store configured with the keys of <paramref name="stripe"/>, an emulator it shares with other stores (two
    /// deployments, or a database restored or recreated, on one Stripe account) and does not stop; its webhook endpoint
    /// is registered there, so it receives every event of the account, as at Stripe.
    /// </summary>
    public static async Task<StoreApp> StartOnSharedStripeAsync(StripeEmulator stripe)
    {
        var secret = "whsec_" + Guid.NewGuid().ToString("N");
        var store = await StartAsync("Testing", stripe, new Dictionary<string, string> { ["Stripe:WebhookSecrets:0"] = secret }, ownsEmulator: false);
        stripe.AddWebhookEndpoint(new Uri(store.BaseAddress, "api/webhooks/stripe"), secret);
        return store;
    }

    private static Task<StoreApp> StartAsync(string environment, StripeEmulator? stripe, IReadOnlyDictionary<string, string>? settings, bool ownsEmulator = true)
    {
        var databasePath = Path.Combine(Path.GetTempPath(), "wavhaven-store-test-" + Guid.NewGuid().ToString("N") + ".db");
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            builder.UseEnvironment(environment);
            builder.UseSetting("ConnectionStrings:Store", "Data Source=" + databasePath);
            if (stripe is not null)
            {
                builder.UseSetting("Stripe:SecretKey", stripe.SecretKey);
                builder.UseSetting("Stripe:ApiBaseUrl", stripe.BaseUrl.ToString());
                builder.UseSetting("Stripe:WebhookSecrets:0", "whsec_" + Guid.NewGuid().ToString("N"));
            }

            foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        });
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var app = new StoreApp(factory, databasePath, stripe);
        if (!ownsEmulator)
        {
            app._ownEmulator = null;
        }

        return Task.FromResult(app);
    }

    /// <summary>A browser: keeps cookies, does not follow redirects (the tests follow them where the buyer would).</summary>
    public Browser NewBrowser() => new(BaseAddress);

    public async Task<T> WithDbAsync<T>(Func<StoreDbContext, Task<T>> query)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<StoreDbContext>());
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        if (_ownEmulator is not null)
        {
            await _ownEmulator.DisposeAsync();
        }

        foreach (var file in new[] { _databasePath, _databasePath + "-shm", _databasePath + "-wal" })
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // SQLite may still hold the file for a moment; the temp folder is cleaned eventually.
            }
        }
    }
}

/// <summary>A cookie-keeping client that posts forms with their antiforgery token, as a browser would.</summary>
public sealed partial class Browser : IDisposable
{
    private readonly HttpClient _client;

    public Browser(Uri baseAddress)
    {
        _client = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false, UseProxy = false })
        {
            BaseAddress = baseAddress,
        };
    }

    public Task<HttpResponseMessage> GetAsync(string url) => _client.GetAsync(url);

    public async Task<string> GetPageAsync(string url)
    {
        using var response = await _client.GetAsync(url);
        var html = await response.Content.ReadAsStringAsync();
        response.StatusCode.Should().Be(HttpStatusCode.OK, "GET {0} should show a page, but answered:\n{1}", url, html);
        return html;
    }

    /// <summary>Loads <paramref name="pageUrl"/>, takes its antiforgery token, and posts the form fields to <paramref name="postUrl"/>.</summary>
    public async Task<HttpResponseMessage> SubmitAsync(string pageUrl, string postUrl, IDictionary<string, string> fields)
    {
        var html = await GetPageAsync(pageUrl);
        var token = AntiforgeryToken().Match(html);
        var form = new Dictionary<string, string>(fields);
        if (token.Success)
        {
            form["__RequestVerificationToken"] = WebUtility.HtmlDecode(token.Groups["token"].Value);
        }

        return await _client.PostAsync(postUrl, new FormUrlEncodedContent(form));
    }

    /// <summary>Posts an empty form to <paramref name="url"/> with the antiforgery token of the store's home page, as its forms do.</summary>
    public Task<HttpResponseMessage> PostFormAsync(string url) => SubmitAsync("/", url, new Dictionary<string, string>());

    public Task<HttpResponseMessage> PostAsync(string url, IDictionary<string, string>? fields = null) =>
        _client.PostAsync(url, new FormUrlEncodedContent(fields ?? new Dictionary<string, string>()));

    public void Dispose() => _client.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"(?<token>[^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
