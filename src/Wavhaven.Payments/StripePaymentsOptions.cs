using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments;

/// <summary>
/// The library's settings, usually bound from the <c>Stripe</c> configuration section. Validated when the
/// host starts; every message names the key at fault and how to fix it.
/// </summary>
public sealed class StripePaymentsOptions
{
    /// <summary>The default value of <see cref="ApiBaseUrl"/>.</summary>
    public static readonly Uri DefaultApiBaseUrl = new("https://api.stripe.com/");

    /// <summary>
    /// Gets or sets the secret API key (<c>sk_test_…</c> or <c>sk_live_…</c>; restricted <c>rk_…</c> keys work too).
    /// Its prefix decides whether the catalog's test or live price ids are used. Never logged.
    /// </summary>
    [Required(ErrorMessage = "Stripe:SecretKey is missing. Set it to your secret key (sk_test_… for test mode) from Stripe's dashboard, Developers → API keys; keep it in user secrets or the environment, not in appsettings.json.")]
    public string SecretKey { get; set; } = string.Empty;

    /// <summary>Gets or sets the publishable key (<c>pk_…</c>), for pages that load Stripe.js.</summary>
    public string? PublishableKey { get; set; }

    /// <summary>
    /// Gets or sets the webhook signing secrets (<c>whsec_…</c>). Several may be set while a secret is rotated:
    /// a webhook signed with any of them is accepted. Never logged.
    /// </summary>
    public IList<string> WebhookSecrets { get; set; } = [];

    /// <summary>
    /// Gets or sets how far a webhook's signature timestamp may be from now, in either direction. Defaults to 5 minutes, as
    /// Stripe's clients do; <see cref="TimeSpan.Zero"/> turns the check off.
    /// </summary>
    public TimeSpan WebhookTolerance { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets the largest webhook body accepted, in bytes; larger ones are answered 413. Defaults to 1 MiB.</summary>
    public int WebhookMaxBodySize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets how a verified webhook is handled: <see cref="WebhookProcessingMode.Inline"/> (the default) runs
    /// the handlers before answering; <see cref="WebhookProcessingMode.Queued"/> stores the event, answers at once,
    /// and leaves the handlers to a hosted worker (needs a durable store).
    /// </summary>
    public WebhookProcessingMode WebhookProcessing { get; set; } = WebhookProcessingMode.Inline;

    /// <summary>
    /// Gets or sets how long a durable store's claim on an event (or a purchase) holds before it is presumed
    /// abandoned (its process died) and another delivery or worker may claim it. A store that renews its claims
    /// (<see cref="Webhooks.IRenewableWebhookEventStore"/>: the Entity Framework Core store on PostgreSQL) extends a claim
    /// every third of it while its handlers run, so a handler may take longer. Leases are set and compared on each
    /// instance's clock: instances whose clocks disagree by more than two thirds of it can take each other's live claims.
    /// Defaults to 5 minutes.
    /// </summary>
    public TimeSpan WebhookClaimLease { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets how long a durable store keeps processed events (their payloads hold buyers' details) before a
    /// background job deletes them; purchase claims are kept for good. At least 3 days, Stripe's retry window;
    /// <see cref="TimeSpan.Zero"/> keeps everything. Defaults to 30 days.
    /// </summary>
    public TimeSpan WebhookEventRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Gets or sets the settings of the queue worker (<c>Stripe:WebhookQueue</c>), used in queued processing.</summary>
    public WebhookQueueOptions WebhookQueue { get; set; } = new();

    /// <summary>Gets or sets the base address of Stripe's API. Change it only to point at an emulator.</summary>
    [Required(ErrorMessage = "Stripe:ApiBaseUrl is empty. Remove the key to use https://api.stripe.com/, or set it to an emulator's address.")]
    public Uri ApiBaseUrl { get; set; } = DefaultApiBaseUrl;

    /// <summary>Gets or sets how long one attempt of a call to Stripe may take. Defaults to 80 seconds, as Stripe's clients do.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(80);

    /// <summary>
    /// Gets or sets how many times a failed call is retried (network failures, timeouts, 409, 429 and 5xx; a
    /// <c>Stripe-Should-Retry</c> header decides when present). Defaults to 2, as Stripe's clients do.
    /// </summary>
    public int MaxNetworkRetries { get; set; } = 2;

    /// <summary>
    /// Gets or sets the default absolute URL Stripe sends the buyer to after paying. If it lacks the
    /// <c>{CHECKOUT_SESSION_ID}</c> placeholder, <c>session_id={CHECKOUT_SESSION_ID}</c> is added to its query.
    /// </summary>
    public string? SuccessUrl { get; set; }

    /// <summary>Gets or sets the default absolute URL Stripe sends the buyer to when they leave Checkout.</summary>
    public string? CancelUrl { get; set; }

    /// <summary>
    /// Gets or sets whether a live secret key may be used while the host runs in the Development environment.
    /// Off by default, so that a developer's machine cannot charge real cards by accident.
    /// </summary>
    public bool AllowLiveKeyInDevelopment { get; set; }

    /// <summary>Gets or sets the plans the app sells (<c>Stripe:Plans</c>).</summary>
    [ValidateEnumeratedItems]
    public IList<PlanOptions> Plans { get; set; } = [];

    /// <summary>Gets the mode the secret key selects.</summary>
    public StripeMode Mode => StripeKeys.ModeOf(SecretKey);

    /// <summary>Gets what went wrong while binding the configuration section (unknown keys, unreadable values); reported at start-up.</summary>
    internal List<string> ConfigurationFailures { get; } = [];

    /// <summary>Gets the paths of the configuration sections already bound, so that a section is bound once.</summary>
    internal HashSet<string> BoundSections { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Test or live mode, as selected by the secret key's prefix.</summary>
public enum StripeMode
{
    /// <summary>A test key: no real money moves; the catalog's test price ids are used.</summary>
    Test,

    /// <summary>A live key: real charges; the catalog's live price ids are used.</summary>
    Live,
}

/// <summary>Recognises Stripe key prefixes.</summary>
internal static class StripeKeys
{
    public static StripeMode ModeOf(string? secretKey) =>
        secretKey is not null && (secretKey.StartsWith("sk_live_", StringComparison.Ordinal) || secretKey.StartsWith("rk_live_", StringComparison.Ordinal))
            ? StripeMode.Live
            : StripeMode.Test;

    /// <summary>Whether a value has the shape of a secret (an API key or a webhook signing secret), which must never be echoed.</summary>
    public static bool LooksSecret(string? value) =>
        value is not null && (value.StartsWith("sk_", StringComparison.Ordinal) || value.StartsWith("rk_", StringComparison.Ordinal) || value.StartsWith("whsec_", StringComparison.Ordinal));

    public static bool IsSecretKey(string secretKey) =>
        secretKey.StartsWith("sk_test_", StringComparison.Ordinal) || secretKey.StartsWith("sk_live_", StringComparison.Ordinal)
        || secretKey.StartsWith("rk_test_", StringComparison.Ordinal) || secretKey.StartsWith("rk_live_", StringComparison.Ordinal);
}
