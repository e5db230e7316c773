using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Testing;

namespace Wavhaven.Store.Services;

/// <summary>The Stripe emulator the store runs against in offline mode.</summary>
public sealed class OfflineStripe
{
    /// <summary>Gets the running emulator.</summary>
    public StripeEmulator Emulator { get; internal set; } = null!;

    internal string WebhookSecret { get; } = "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
}

/// <summary>
/// Offline mode: with no <c>Stripe:SecretKey</c>, the store starts the library's Stripe emulator in-process,
/// points the library at it, and registers its own webhook endpoint there once the server is listening.
/// </summary>
public static partial class EmulatorMode
{
    /// <summary>Gets whether the store runs offline: no <c>Stripe:SecretKey</c> is configured.</summary>
    public static bool IsOffline(IConfiguration configuration) => string.IsNullOrWhiteSpace(configuration["Stripe:SecretKey"]);

    /// <summary>Decides, before the app is built, whether the store runs offline; registers what offline mode needs.</summary>
    public static void Register(WebApplicationBuilder builder)
    {
        if (!IsOffline(builder.Configuration))
        {
            return;
        }

        builder.Services.AddSingleton<OfflineStripe>();
        builder.Services.AddHostedService<EmulatorWebhookRegistration>();
    }

    /// <summary>
    /// Starts the emulator (after the app is built, before it starts) and points the Stripe settings at it. The
    /// library reads its options when the app starts, so they see the emulator's address and keys.
    /// </summary>
    public static async Task StartAsync(WebApplication app)
    {
        if (app.Services.GetService<OfflineStripe>() is not { } offline)
        {
            return;
        }

        var plans = app.Configuration.GetSection("Stripe:Plans").Get<List<PlanOptions>>() ?? [];
        offline.Emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = plans });
        app.Configuration["Stripe:SecretKey"] = offline.Emulator.SecretKey;
        app.Configuration["Stripe:ApiBaseUrl"] = offline.Emulator.BaseUrl.ToString();
        app.Configuration["Stripe:WebhookSecrets:0"] = offline.WebhookSecret;
    }

    /// <summary>Registers the store's webhook endpoint with the emulator once Kestrel listens, and stops the emulator with the app.</summary>
    public sealed partial class EmulatorWebhookRegistration(
        OfflineStripe offline,
        IServer server,
        IHostApplicationLifetime lifetime,
        ILogger<EmulatorWebhookRegistration> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStarted.Register(() =>
            {
                var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? "http://localhost:5080";
                var site = new UriBuilder(address);
                if (site.Host is "0.0.0.0" or "[::]" or "+" or "*")
                {
                    site.Host = "127.0.0.1";
                }

                var webhookUrl = new Uri(site.Uri, "api/webhooks/stripe");
                offline.Emulator.AddWebhookEndpoint(webhookUrl, offline.WebhookSecret);
                Log.UsingEmulator(logger, offline.Emulator.BaseUrl, webhookUrl, site.Uri);
            });
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken) => await offline.Emulator.DisposeAsync();

        private static partial class Log
        {
            [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
                Message = "No Stripe:SecretKey is set, so the store runs against the local Stripe emulator at {EmulatorUrl}: no Stripe account or network needed, and webhooks go to {WebhookUrl}. Open {SiteUrl} to shop. Set Stripe:SecretKey and Stripe:WebhookSecrets to use Stripe's test mode instead.")]
            public static partial void UsingEmulator(ILogger logger, Uri emulatorUrl, Uri webhookUrl, Uri siteUrl);
        }
    }
}
