using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Catalog;

namespace Wavhaven.Payments;

/// <summary>The attribute rules of <see cref="StripePaymentsOptions"/>, generated at compile time.</summary>
[OptionsValidator]
internal sealed partial class StripePaymentsOptionsAttributeValidator : IValidateOptions<StripePaymentsOptions>
{
}

/// <summary>
/// The rules across fields: key prefixes and modes, webhook secrets, URLs, and the catalog (unique ids,
/// prices that fit the billing type, price ids for the key's mode, currencies). Messages name the key at
/// fault, say how to fix it, and never quote a secret.
/// </summary>
internal sealed partial class StripePaymentsOptionsValidator(IHostEnvironment? environment = null) : IValidateOptions<StripePaymentsOptions>
{
    public ValidateOptionsResult Validate(string? name, StripePaymentsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ConfigurationFailures.Count > 0)
        {
            // The section did not bind as a whole: the other rules would judge half-bound options.
            return ValidateOptionsResult.Fail(options.ConfigurationFailures);
        }

        var failures = new List<string>();
        ValidateRanges(options, failures);
        ValidateKeys(options, failures);
        ValidateUrls(options, failures);
        ValidatePlans(options, failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>
    /// The numeric limits. They are checked here rather than with [Range]: the generated validator drops a
    /// [Range]'s message, and these messages name the configuration key and the usual value.
    /// </summary>
    private static void ValidateRanges(StripePaymentsOptions options, List<string> failures)
    {
        Within(options.WebhookTolerance, TimeSpan.Zero, TimeSpan.FromDays(1), "Stripe:WebhookTolerance", "Stripe's clients use 00:05:00", failures);
        Within(options.WebhookMaxBodySize, 1024, 64 * 1024 * 1024, "Stripe:WebhookMaxBodySize", "the default is 1048576 bytes", failures);
        Within(options.WebhookClaimLease, TimeSpan.FromMilliseconds(100), TimeSpan.FromDays(1), "Stripe:WebhookClaimLease", "the default is 00:05:00", failures);
        Within(options.RequestTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), "Stripe:RequestTimeout", "Stripe's clients use 00:01:20", failures);
        Within(options.MaxNetworkRetries, 0, 10, "Stripe:MaxNetworkRetries", "Stripe's clients use 2", failures);
        if (options.WebhookEventRetention != TimeSpan.Zero)
        {
            Within(options.WebhookEventRetention, TimeSpan.FromDays(3), TimeSpan.FromDays(3650), "Stripe:WebhookEventRetention", "the default is 30.00:00:00; 00:00:00 keeps everything; Stripe retries for three days", failures);
        }

        var queue = options.WebhookQueue;
        if (queue is null)
        {
            failures.Add("Stripe:WebhookQueue is null. Remove the key to use the defaults.");
            return;
        }

        Within(queue.MaxAttempts, 1, 100, "Stripe:WebhookQueue:MaxAttempts", "the default is 12", failures);
        Within(queue.RetryDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(1), "Stripe:WebhookQueue:RetryDelay", "the default is 00:00:30", failures);
        Within(queue.MaxRetryDelay, TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(7), "Stripe:WebhookQueue:MaxRetryDelay", "the default is 01:00:00", failures);
        Within(queue.PollInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10), "Stripe:WebhookQueue:PollInterval", "the default is 00:00:05", failures);
        Within(queue.MaxConcurrency, 1, 256, "Stripe:WebhookQueue:MaxConcurrency", "the default is 4", failures);
        if (queue.HandlerTimeout != TimeSpan.Zero)
        {
            // Under a second it would cancel handlers as they start (a call to Stripe alone may take that long): a typo, not a limit.
            Within(queue.HandlerTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), "Stripe:WebhookQueue:HandlerTimeout", "the default is 00:00:00: no limit", failures);
        }
    }

    private static void Within<T>(T value, T min, T max, string key, string usual, List<string> failures)
        where T : IComparable<T>
    {
        if (value.CompareTo(min) < 0 || value.CompareTo(max) > 0)
        {
            failures.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{key} must be between {min} and {max} ({usual})."));
        }
    }

    private void ValidateKeys(StripePaymentsOptions options, List<string> failures)
    {
        var key = options.SecretKey;
        if (!string.IsNullOrEmpty(key))
        {
            if (key.StartsWith("pk_", StringComparison.Ordinal))
            {
                failures.Add("Stripe:SecretKey holds a publishable key (pk_…). Use the secret key (sk_test_… or sk_live_…) there, and put the publishable key in Stripe:PublishableKey.");
            }
            else if (key.StartsWith("whsec_", StringComparison.Ordinal))
            {
                failures.Add("Stripe:SecretKey holds a webhook signing secret (whsec_…). Use the API secret key (sk_test_… or sk_live_…) there, and put the signing secret in Stripe:WebhookSecrets.");
            }
            else if (!StripeKeys.IsSecretKey(key))
            {
                failures.Add("Stripe:SecretKey does not look like a Stripe secret key: it must start with sk_test_, sk_live_, rk_test_ or rk_live_. Copy it from Stripe's dashboard, Developers → API keys.");
            }
            else if (!Stripe.StripeText.IsHeaderSafe(key))
            {
                // Sent as the Authorization header: a line break would fail every call with a FormatException, and any
                // other such character as a "network error", retried. (The key is not shown: it is a secret.)
                failures.Add("Stripe:SecretKey holds a space, a line break or another character that is not visible ASCII (a file saved with CRLF line ends, or an invisible character pasted from a web page). Stripe's keys are letters, digits and underscores: copy it again.");
            }
            else if (options.Mode == StripeMode.Live && environment?.IsDevelopment() == true && !options.AllowLiveKeyInDevelopment)
            {
                failures.Add("Stripe:SecretKey is a live key (sk_live_…) while the app runs in the Development environment. Use a test key (sk_test_…), or set Stripe:AllowLiveKeyInDevelopment to true if you really mean to charge real cards from here.");
            }
        }

        if (!string.IsNullOrEmpty(options.PublishableKey))
        {
            var publishable = options.PublishableKey;
            if (!publishable.StartsWith("pk_test_", StringComparison.Ordinal) && !publishable.StartsWith("pk_live_", StringComparison.Ordinal))
            {
                failures.Add("Stripe:PublishableKey must start with pk_test_ or pk_live_.");
            }
            else if (StripeKeys.IsSecretKey(key) && publishable.StartsWith("pk_live_", StringComparison.Ordinal) != (options.Mode == StripeMode.Live))
            {
                failures.Add($"Stripe:PublishableKey and Stripe:SecretKey belong to different modes. Use the {(options.Mode == StripeMode.Live ? "live" : "test")} publishable key with this secret key.");
            }
        }

        for (var i = 0; i < options.WebhookSecrets.Count; i++)
        {
            var secret = options.WebhookSecrets[i];
            if (string.IsNullOrWhiteSpace(secret))
            {
                failures.Add($"Stripe:WebhookSecrets[{i}] is empty. Remove it, or set it to the endpoint's signing secret (whsec_…).");
            }
            else if (!secret.StartsWith("whsec_", StringComparison.Ordinal))
            {
                failures.Add($"Stripe:WebhookSecrets[{i}] does not look like a webhook signing secret: it must start with whsec_. Copy it from the webhook endpoint's page in Stripe's dashboard (or from `stripe listen`).");
            }
            else if (!Stripe.StripeText.IsHeaderSafe(secret))
            {
                // The whole string keys the HMAC and Stripe signs with the secret alone: with a line end (a secret file, a CRLF
                // file) or an invisible character in it, every genuine delivery would be answered 400. (Not shown: a secret.)
                failures.Add($"Stripe:WebhookSecrets[{i}] holds a space, a line break or another character that is not visible ASCII (a secret file's line end, or an invisible character pasted from a web page). Stripe's signing secrets are letters, digits and underscores: copy it again.");
            }
        }
    }

    private static void ValidateUrls(StripePaymentsOptions options, List<string> failures)
    {
        if (options.ApiBaseUrl is { } baseUrl && (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp)))
        {
            failures.Add("Stripe:ApiBaseUrl must be an absolute http(s) URL, e.g. https://api.stripe.com/.");
        }
        else if (options.ApiBaseUrl is { } plain && plain.Scheme == Uri.UriSchemeHttp && !plain.IsLoopback && options.Mode == StripeMode.Live)
        {
            // Every call carries the key in its Authorization header: over plain http it would cross the network readable.
            failures.Add("Stripe:ApiBaseUrl is a plain http:// URL, and Stripe:SecretKey is a live key, which every call would then send in clear text. Use https:// (or remove Stripe:ApiBaseUrl for https://api.stripe.com/); an emulator takes a test key.");
        }

        if (!string.IsNullOrEmpty(options.SuccessUrl) && !IsAbsoluteHttpUrl(options.SuccessUrl))
        {
            failures.Add("Stripe:SuccessUrl must be an absolute http(s) URL, e.g. https://shop.example/checkout/success?session_id={CHECKOUT_SESSION_ID}.");
        }

        if (!string.IsNullOrEmpty(options.CancelUrl) && !IsAbsoluteHttpUrl(options.CancelUrl))
        {
            failures.Add("Stripe:CancelUrl must be an absolute http(s) URL, e.g. https://shop.example/cart.");
        }
    }

    private static void ValidatePlans(StripePaymentsOptions options, List<string> failures)
    {
        var mode = options.Mode;
        var planIds = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var priceIds = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Plans.Count; i++)
        {
            var plan = options.Plans[i];
            var where = string.IsNullOrEmpty(plan.Id) ? $"Stripe:Plans[{i}]" : $"Stripe:Plans[{i}] ({Quote(plan.Id)})";
            if (string.IsNullOrEmpty(plan.Id))
            {
                // The attribute validator reports the missing id.
            }
            else if (!PlanIdPattern().IsMatch(plan.Id))
            {
                failures.Add($"{where}: Id may hold only letters, digits, '-', '_' and '.', start with a letter or digit, and be at most 64 characters.");
            }
            else if (planIds.TryGetValue(plan.Id, out var first))
            {
                failures.Add($"{where}: Id {Quote(plan.Id)} is already used by Stripe:Plans[{first}]. Plan ids must be unique (ignoring case).");
            }
            else
            {
                planIds[plan.Id] = i;
            }

            ValidatePlanPrices(plan, where, mode, priceIds, failures);
        }
    }

    private static void ValidatePlanPrices(PlanOptions plan, string where, StripeMode mode, Dictionary<string, string> priceIds, List<string> failures)
    {
        switch (plan.BillingType)
        {
            case BillingType.Free when plan.Prices.Count > 0:
                failures.Add($"{where}: a Free plan has no Prices. Remove them, or set BillingType to OneTime or Subscription.");
                return;
            case BillingType.OneTime when plan.Prices.Count == 0:
                failures.Add($"{where}: a OneTime plan needs a price. Add Prices: [ {{ \"Interval\": \"OneTime\", \"TestPriceId\": \"price_…\", \"Amount\": 1999, \"Currency\": \"usd\" }} ].");
                break;
            case BillingType.Subscription when !plan.Prices.Any(price => price.Interval != PriceInterval.OneTime):
                failures.Add($"{where}: a Subscription plan needs a recurring price (Interval Month or Year).");
                break;
        }

        var intervals = new HashSet<PriceInterval>();
        for (var j = 0; j < plan.Prices.Count; j++)
        {
            var price = plan.Prices[j];
            var at = $"{where}.Prices[{j}]";
            if (!Enum.IsDefined(price.Interval))
            {
                failures.Add($"{at}.Interval must be OneTime, Month or Year.");
            }
            else if (plan.BillingType == BillingType.OneTime && price.Interval != PriceInterval.OneTime)
            {
                failures.Add($"{at}.Interval is {price.Interval}, but the plan is OneTime. Use Interval OneTime, or set the plan's BillingType to Subscription.");
            }
            else if (plan.BillingType == BillingType.Subscription && price.Interval == PriceInterval.OneTime)
            {
                failures.Add($"{at}.Interval is OneTime, but the plan is a Subscription. Use Month or Year.");
            }

            if (!intervals.Add(price.Interval))
            {
                failures.Add($"{at}: the plan already has a {price.Interval} price. Each interval may be priced once.");
            }

            ValidatePriceId(price.TestPriceId, $"{at}.TestPriceId", priceIds, failures);
            ValidatePriceId(price.LivePriceId, $"{at}.LivePriceId", priceIds, failures);
            if (mode == StripeMode.Live && string.IsNullOrEmpty(price.LivePriceId))
            {
                failures.Add($"{at}.LivePriceId is missing, and Stripe:SecretKey is a live key. Create the price in live mode and set its id (price_…), or use a test key.");
            }
            else if (mode == StripeMode.Test && string.IsNullOrEmpty(price.TestPriceId))
            {
                failures.Add($"{at}.TestPriceId is missing, and Stripe:SecretKey is a test key. Set it to the test-mode price id (price_…).");
            }

            if (price.Amount < 0)
            {
                failures.Add($"{at}.Amount is negative. Give the amount in minor units, e.g. 1999 for 19.99.");
            }

            if (!IsCurrencyCode(price.Currency))
            {
                failures.Add($"{at}.Currency {Quote(price.Currency)} is not a three-letter ISO currency code such as usd or eur.");
            }
        }
    }

    private static void ValidatePriceId(string? priceId, string at, Dictionary<string, string> seen, List<string> failures)
    {
        if (string.IsNullOrEmpty(priceId))
        {
            return;
        }

        if (!priceId.StartsWith("price_", StringComparison.Ordinal))
        {
            failures.Add(priceId.StartsWith("prod_", StringComparison.Ordinal)
                ? $"{at} '{priceId}' is a product id. Use the id of one of the product's prices (price_…)."
                : $"{at} {Quote(priceId)} must start with price_.");
        }
        else if (!seen.TryAdd(priceId, at))
        {
            failures.Add($"{at} '{priceId}' is already used at {seen[priceId]}. Each price belongs to one plan and interval.");
        }
    }

    /// <summary>Quotes a configured value for a message, unless it has the shape of a secret, which is never echoed.</summary>
    private static string Quote(string? value) =>
        StripeKeys.LooksSecret(value) ? "[a secret, not shown]" : $"'{value}'";

    /// <summary>Whether a URL is absolute, http or https, and well-formed text: what Stripe accepts as a redirect (checkout and the portal use it too).</summary>
    internal static bool IsAbsoluteHttpUrl([NotNullWhen(true)] string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && Stripe.StripeText.IsWellFormed(url); // Uri would send a lone surrogate as U+FFFD

    /// <summary>Whether a currency looks like an ISO code: three ASCII letters (checkout uses it too).</summary>
    internal static bool IsCurrencyCode(string? currency) =>
        currency is { Length: 3 } && char.IsAsciiLetter(currency[0]) && char.IsAsciiLetter(currency[1]) && char.IsAsciiLetter(currency[2]);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex PlanIdPattern();

}
