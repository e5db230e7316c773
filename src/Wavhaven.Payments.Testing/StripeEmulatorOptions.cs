using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Testing;

/// <summary>Settings of a <see cref="StripeEmulator"/>.</summary>
public sealed class StripeEmulatorOptions
{
    /// <summary>The default <see cref="SecretKey"/>.</summary>
    public const string DefaultSecretKey = "sk_test_emulator";

    /// <summary>Gets or sets the API key the emulator accepts as <c>Authorization: Bearer …</c>. Defaults to <c>sk_test_emulator</c>.</summary>
    public string SecretKey { get; set; } = DefaultSecretKey;

    /// <summary>
    /// Gets or sets the loopback port to listen on; 0 (the default) takes any free port, and
    /// <see cref="StripeEmulator.BaseUrl"/> tells which.
    /// </summary>
    public int Port { get; set; }

    /// <summary>
    /// Gets or sets the catalog to seed: a product per plan, and a price per plan price whose id is the
    /// price's <see cref="PlanPriceOptions.TestPriceId"/> (prices without one are skipped).
    /// </summary>
    public IEnumerable<PlanOptions> Plans { get; set; } = [];

    /// <summary>Gets the webhook endpoints that receive every event from the start.</summary>
    public IList<WebhookEndpointOptions> WebhookEndpoints { get; } = [];

    /// <summary>
    /// Gets or sets the waits between delivery attempts of one event: the first entry after the first failure,
    /// and so on; the last entry repeats. Defaults to 50 ms, 200 ms, 1 s (Stripe waits hours; tests cannot).
    /// </summary>
    public IReadOnlyList<TimeSpan> WebhookRetryDelays { get; set; } = [TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1)];

    /// <summary>Gets or sets how many times one event is tried on one endpoint before the emulator gives up. Defaults to 4.</summary>
    public int MaxDeliveryAttempts { get; set; } = 4;

    /// <summary>Gets or sets how long one delivery attempt may take. Defaults to 10 seconds.</summary>
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the time source. The emulator's clock is this time plus every
    /// <see cref="StripeEmulator.AdvanceClockAsync"/>; webhook signatures use this time without the advances,
    /// as Stripe signs with the real time even for test clocks.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the time the emulator's clock starts at; <see langword="null"/> (the default) starts at <see cref="TimeProvider"/>'s now.</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>Gets or sets where the emulator logs deliveries and failures; nothing is logged when <see langword="null"/>.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; set; }
}

/// <summary>A webhook endpoint that receives the emulator's events.</summary>
public sealed class WebhookEndpointOptions
{
    /// <summary>Gets or sets the URL events are POSTed to.</summary>
    public required Uri Url { get; set; }

    /// <summary>Gets or sets the signing secret (<c>whsec_…</c>); one is generated when <see langword="null"/>.</summary>
    public string? Secret { get; set; }

    /// <summary>Gets or sets the API version of the event payloads; defaults to <see cref="StripeApiVersion.Current"/>.</summary>
    public string? ApiVersion { get; set; }
}
