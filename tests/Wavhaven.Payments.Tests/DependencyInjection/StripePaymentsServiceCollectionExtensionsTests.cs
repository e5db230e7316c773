using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.DependencyInjection;

/// <summary>
/// Registration, and the options checked when the host starts: a misconfiguration fails
/// <c>StartAsync</c> with a message that names the key at fault and never quotes the secret key.
/// </summary>
public class StripePaymentsServiceCollectionExtensionsTests
{
    private const string TestKey = "sk_test_51ValidationSecretNeverShown";
    private const string LiveKey = "sk_live_51ValidationSecretNeverShown";

    /// <summary>A valid section: one one-time plan and one subscription plan, test and live ids.</summary>
    private static Dictionary<string, string?> ValidSection(string secretKey = TestKey) => new()
    {
        ["Stripe:SecretKey"] = secretKey,
        ["Stripe:SuccessUrl"] = "https://shop.example/checkout/success",
        ["Stripe:CancelUrl"] = "https://shop.example/cart",
        ["Stripe:Plans:0:Id"] = "beat-license",
        ["Stripe:Plans:0:BillingType"] = "OneTime",
        ["Stripe:Plans:0:Prices:0:Interval"] = "OneTime",
        ["Stripe:Plans:0:Prices:0:TestPriceId"] = "price_license_test",
        ["Stripe:Plans:0:Prices:0:LivePriceId"] = "price_license_live",
        ["Stripe:Plans:0:Prices:0:Amount"] = "2900",
        ["Stripe:Plans:0:Prices:0:Currency"] = "usd",
        ["Stripe:Plans:1:Id"] = "pro",
        ["Stripe:Plans:1:BillingType"] = "Subscription",
        ["Stripe:Plans:1:Prices:0:Interval"] = "Month",
        ["Stripe:Plans:1:Prices:0:TestPriceId"] = "price_pro_month",
        ["Stripe:Plans:1:Prices:0:LivePriceId"] = "price_pro_month_live",
        ["Stripe:Plans:1:Prices:0:Amount"] = "1500",
        ["Stripe:Plans:1:Prices:0:Currency"] = "usd",
    };

    private static IHost BuildHost(IDictionary<string, string?> settings, string environment = "Production")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = environment,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"));
        return builder.Build();
    }

    private static async Task<IReadOnlyList<string>> StartFailures(IDictionary<string, string?> settings, string environment = "Production")
    {
        using var host = BuildHost(settings, environment);
        var error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;
        error.OptionsType.Should().Be<StripePaymentsOptions>();
        return [.. error.Failures];
    }

    private static async Task StartsAndStops(IDictionary<string, string?> settings, string environment = "Production")
    {
        using var host = BuildHost(settings, environment);
        await host.StartAsync();
        await host.StopAsync();
    }

    private static Dictionary<string, string?> With(Dictionary<string, string?> settings, params (string Key, string? Value)[] changes)
    {
        foreach (var (key, value) in changes)
        {
            settings[key] = value;
        }

        return settings;
    }

    [Fact]
    public async Task StartAsync_ValidSection_Starts()
    {
        await StartsAndStops(ValidSection());
    }

    [Fact]
    public async Task StartAsync_DuplicatePlanIdIgnoringCase_NamesBothPlans()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Id", "Beat-License"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle(f => f.Contains("Stripe:Plans[1] ('Beat-License')", StringComparison.Ordinal)
            && f.Contains("already used by Stripe:Plans[0]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_SubscriptionPlanWithoutRecurringPrice_NamesThePlanAndInterval()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Prices:0:Interval", "OneTime"));

        var failures = await StartFailures(settings);

        failures.Should().Contain("Stripe:Plans[1] ('pro'): a Subscription plan needs a recurring price (Interval Month or Year).");
        failures.Should().Contain(f => f.StartsWith("Stripe:Plans[1] ('pro').Prices[0].Interval is OneTime", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_PriceIdWithoutPricePrefix_NamesPlanAndField()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Prices:0:TestPriceId", "plan_pro_month"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().Be("Stripe:Plans[1] ('pro').Prices[0].TestPriceId 'plan_pro_month' must start with price_.");
    }

    [Fact]
    public async Task StartAsync_ProductIdInsteadOfPriceId_SaysItIsAProduct()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:0:Prices:0:LivePriceId", "prod_Nabc123"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().Be(
            "Stripe:Plans[0] ('beat-license').Prices[0].LivePriceId 'prod_Nabc123' is a product id. Use the id of one of the product's prices (price_…).");
    }

    [Fact]
    public async Task StartAsync_SamePriceIdInTwoPlans_NamesBothPlaces()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Prices:0:TestPriceId", "price_license_test"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().Be(
            "Stripe:Plans[1] ('pro').Prices[0].TestPriceId 'price_license_test' is already used at Stripe:Plans[0] ('beat-license').Prices[0].TestPriceId. Each price belongs to one plan and interval.");
    }

    [Theory]
    [InlineData("dollars")]
    [InlineData("us")]
    [InlineData("")]
    public async Task StartAsync_BadCurrency_NamesPlanAndField(string currency)
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Prices:0:Currency", currency));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith($"Stripe:Plans[1] ('pro').Prices[0].Currency '{currency}' is not a three-letter ISO currency code");
    }

    [Fact]
    public async Task StartAsync_LiveKeyWhileCatalogLacksLiveIds_NamesEveryPriceWithoutOne()
    {
        var settings = With(ValidSection(LiveKey), ("Stripe:Plans:0:Prices:0:LivePriceId", null), ("Stripe:Plans:1:Prices:0:LivePriceId", null));

        var failures = await StartFailures(settings);

        failures.Should().BeEquivalentTo(
            "Stripe:Plans[0] ('beat-license').Prices[0].LivePriceId is missing, and Stripe:SecretKey is a live key. Create the price in live mode and set its id (price_…), or use a test key.",
            "Stripe:Plans[1] ('pro').Prices[0].LivePriceId is missing, and Stripe:SecretKey is a live key. Create the price in live mode and set its id (price_…), or use a test key.");
    }

    [Fact]
    public async Task StartAsync_LiveKeyWithLiveIds_Starts()
    {
        await StartsAndStops(ValidSection(LiveKey));
    }

    [Fact]
    public async Task StartAsync_TestKeyWhileCatalogLacksTestIds_NamesThePrice()
    {
        var settings = With(ValidSection(), ("Stripe:Plans:1:Prices:0:TestPriceId", null));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:Plans[1] ('pro').Prices[0].TestPriceId is missing, and Stripe:SecretKey is a test key.");
    }

    [Fact]
    public async Task StartAsync_MissingSecretKey_SaysWhereToFindIt()
    {
        var settings = ValidSection();
        settings.Remove("Stripe:SecretKey");

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().Contain("Stripe:SecretKey is missing.").And.Contain("Developers → API keys");
    }

    [Fact]
    public async Task StartAsync_PublishableKeyAsSecretKey_SaysToMoveIt()
    {
        var failures = await StartFailures(ValidSection("pk_test_51ValidationSecretNeverShown"));

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:SecretKey holds a publishable key (pk_…).").And.Contain("Stripe:PublishableKey");
    }

    [Theory]
    [InlineData("sk_test_51ValidationSecretNeverShown\r", "a CRLF file's line end")]
    [InlineData("sk_test_51ValidationSecretNeverShown\u200B", "a zero-width space pasted from a web page")]
    [InlineData("sk_test_51Validation SecretNeverShown", "a space")]
    public async Task StartAsync_SecretKeyThatCannotBeSentAsAHeader_IsRefusedWithoutShowingIt(string key, string because)
    {
        var failures = await StartFailures(ValidSection(key));

        failures.Should().ContainSingle(because).Which.Should().StartWith("Stripe:SecretKey holds a space, a line break or another character that is not visible ASCII")
            .And.NotContain("ValidationSecretNeverShown");
    }

    [Fact]
    public async Task StartAsync_WebhookSecretAsSecretKey_SaysToMoveIt()
    {
        var failures = await StartFailures(ValidSection("whsec_51ValidationSecretNeverShown"));

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:SecretKey holds a webhook signing secret (whsec_…).");
    }

    [Theory]
    [InlineData("whsec_51ValidationSecretNeverShown\n", "a secret file's line end (a Kubernetes or Docker secret made with --from-file)")]
    [InlineData("whsec_51ValidationSecretNeverShown\r", "a CRLF file's line end")]
    [InlineData(" whsec_51ValidationSecretNeverShown", "a space pasted before it")]
    [InlineData("whsec_51ValidationSecretNeverShown\u200B", "a zero-width space pasted from a web page")]
    public async Task StartAsync_WebhookSecretWithInvisibleCharacters_IsRefusedWithoutShowingIt(string secret, string because)
    {
        // The HMAC key is the whole string: Stripe signs with the secret alone, so with such a character in the configured
        // secret every genuine delivery is answered 400 "no signature matches", and nothing is fulfilled until it is fixed.
        // Start-up refuses the same mistake in Stripe:SecretKey; it must refuse it here too.
        var failures = await StartFailures(With(ValidSection(), ("Stripe:WebhookSecrets:0", secret)));

        failures.Should().ContainSingle(because).Which.Should().StartWith("Stripe:WebhookSecrets[0]")
            .And.NotContain("ValidationSecretNeverShown");
    }

    [Fact]
    public async Task StartAsync_WebhookSecretWithoutWhsecPrefix_NamesTheEntry()
    {
        var settings = With(ValidSection(), ("Stripe:WebhookSecrets:0", "whsec_current"), ("Stripe:WebhookSecrets:1", "we_1Nabc"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:WebhookSecrets[1] does not look like a webhook signing secret: it must start with whsec_.");
    }

    [Fact]
    public async Task StartAsync_PublishableKeyOfTheOtherMode_IsRefused()
    {
        var settings = With(ValidSection(), ("Stripe:PublishableKey", "pk_live_51Other"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:PublishableKey and Stripe:SecretKey belong to different modes.");
    }

    [Fact]
    public async Task StartAsync_LiveKeyInDevelopment_IsRefused()
    {
        var failures = await StartFailures(ValidSection(LiveKey), Environments.Development);

        failures.Should().ContainSingle().Which.Should().StartWith("Stripe:SecretKey is a live key (sk_live_…) while the app runs in the Development environment.")
            .And.Contain("Stripe:AllowLiveKeyInDevelopment");
    }

    /// <summary>
    /// Every request carries the secret key in its Authorization header: a live key sent to an http:// ApiBaseUrl (a typo,
    /// or a variable left from the emulator) crosses the network in clear text, readable by anyone on the path, while the
    /// app runs as if nothing were wrong. A live key goes to Stripe over TLS only; an emulator takes test keys.
    /// </summary>
    [Theory]
    [InlineData("http://api.stripe.com/")]
    [InlineData("http://stripe-proxy.internal:8080/")]
    public async Task StartAsync_LiveKeyWithAPlainHttpApiBaseUrl_IsRefused(string apiBaseUrl)
    {
        var failures = await StartFailures(With(ValidSection(LiveKey), ("Stripe:ApiBaseUrl", apiBaseUrl)));

        failures.Should().ContainSingle().Which.Should().Contain("Stripe:ApiBaseUrl").And.Contain("https").And.NotContain(LiveKey);
    }

    [Fact]
    public async Task StartAsync_TestKeyWithAPlainHttpEmulatorUrl_Starts()
    {
        await StartsAndStops(With(ValidSection(), ("Stripe:ApiBaseUrl", "http://127.0.0.1:12111/")));
    }

    [Fact]
    public async Task StartAsync_LiveKeyInDevelopmentWhenAllowed_Starts()
    {
        var settings = With(ValidSection(LiveKey), ("Stripe:AllowLiveKeyInDevelopment", "true"));

        await StartsAndStops(settings, Environments.Development);
    }

    [Fact]
    public async Task StartAsync_TestKeyInDevelopment_Starts()
    {
        await StartsAndStops(ValidSection(), Environments.Development);
    }

    [Theory]
    [InlineData("Stripe:SecretKy", "Stripe:SecretKy is not a setting. Check its spelling; the settings of Stripe are: SecretKey, ")]
    [InlineData("Stripe:Plans:1:Prices:0:TestPriceID2", "Stripe:Plans:1:Prices:0:TestPriceID2 is not a setting. Check its spelling; the settings of Stripe:Plans:1:Prices:0 are: Interval, TestPriceId, ")]
    [InlineData("Stripe:Mode", "Stripe:Mode is not a setting.")]
    [InlineData("stripe:mode", "Stripe:mode is not a setting.")]
    [InlineData("Stripe:SecretKey:Value", "Stripe:SecretKey:Value is not a setting: Stripe:SecretKey takes a single value, not a section.")]
    [InlineData("Stripe:Plans:1:Grants:credits:extra", "Stripe:Plans:1:Grants:credits:extra is not a setting: Stripe:Plans:1:Grants:credits takes a single value, not a section.")]
    public async Task StartAsync_UnknownConfigurationKey_NamesItsFullPath(string key, string expected)
    {
        var settings = With(ValidSection(), (key, "x"));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith(expected);
    }

    [Fact]
    public async Task StartAsync_UnknownKeys_AreAllReportedAndOnlyThem()
    {
        var settings = With(ValidSection(), ("Stripe:CancelURL2", "https://shop.example/cart"), ("Stripe:Plans:0:Price", "price_x"));

        var failures = await StartFailures(settings);

        failures.Should().HaveCount(2);
        failures.Should().Contain(f => f.StartsWith("Stripe:CancelURL2 is not a setting.", StringComparison.Ordinal));
        failures.Should().Contain(f => f.StartsWith("Stripe:Plans:0:Price is not a setting.", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartAsync_KeysInAnotherCase_BindLikeTheBinder()
    {
        var settings = ValidSection();
        settings.Remove("Stripe:Plans:0:Prices:0:TestPriceId");
        settings.Remove("Stripe:SecretKey");
        settings["Stripe:plans:0:prices:0:testpriceid"] = "price_license_test";
        settings["STRIPE:SECRETKEY"] = TestKey;

        await StartsAndStops(settings);
    }

    [Theory]
    [InlineData("Stripe:MaxNetworkRetries", "two", "Stripe:MaxNetworkRetries must be a whole number;")]
    [InlineData("Stripe:RequestTimeout", "soon", "Stripe:RequestTimeout must be a duration such as 00:05:00;")]
    [InlineData("Stripe:AllowLiveKeyInDevelopment", "yes", "Stripe:AllowLiveKeyInDevelopment must be true or false;")]
    [InlineData("Stripe:Plans:1:BillingType", "Subscripton", "Stripe:Plans:1:BillingType must be one of Free, OneTime, Subscription;")]
    [InlineData("Stripe:Plans:1:Prices:0:Interval", "Monthly", "Stripe:Plans:1:Prices:0:Interval must be one of OneTime, Month, Year;")]
    [InlineData("Stripe:Plans:1:Prices:0:Amount", "15.00", "Stripe:Plans:1:Prices:0:Amount must be a whole number;")]
    [InlineData("Stripe:Plans:1:Features", "Unlimited downloads", "Stripe:Plans:1:Features must be a list, one key per entry (Stripe:Plans:1:Features:0, Stripe:Plans:1:Features:1, …; in environment variables Stripe__Plans__1__Features__0);")]
    [InlineData("Stripe:WebhookSecrets", "whsec_one_secret", "Stripe:WebhookSecrets must be a list, one key per entry (Stripe:WebhookSecrets:0, Stripe:WebhookSecrets:1, …; in environment variables Stripe__WebhookSecrets__0);")]
    [InlineData("Stripe:Plans:2", "enterprise", "Stripe:Plans:2 must be a section, one key per setting (Stripe:Plans:2:Id, Stripe:Plans:2:Name, …);")]
    [InlineData("Stripe:WebhookQueue", "fast", "Stripe:WebhookQueue must be a section, one key per setting (Stripe:WebhookQueue:MaxAttempts, Stripe:WebhookQueue:RetryDelay, …);")]
    [InlineData("Stripe:Plans:1:Grants", "credits=500", "Stripe:Plans:1:Grants must be a section, one key per entry (Stripe:Plans:1:Grants:name);")]
    public async Task StartAsync_UnreadableValue_NamesTheKeyInsteadOfDroppingIt(string key, string value, string expected)
    {
        // The binder skips a single value where a list or a section belongs, and (without strict binding) a plan whose
        // entry fails to convert: the app would start without its webhook secret or the plan.
        var settings = With(ValidSection(), (key, value));

        var failures = await StartFailures(settings);

        failures.Should().ContainSingle().Which.Should().StartWith(expected).And.NotContain($"'{value}'");
    }

    [Theory]
    [InlineData("Stripe:ApiBaseUrl")]
    [InlineData("Stripe:WebhookTolerance")]
    [InlineData("Stripe:WebhookClaimLease")]
    [InlineData("Stripe:RequestTimeout")]
    [InlineData("Stripe:MaxNetworkRetries")]
    [InlineData("Stripe:WebhookMaxBodySize")]
    [InlineData("Stripe:AllowLiveKeyInDevelopment")]
    [InlineData("Stripe:WebhookProcessing")]
    [InlineData("Stripe:WebhookQueue:MaxAttempts")]
    [InlineData("Stripe:Plans:0:BillingType")]
    [InlineData("Stripe:Plans:0:Prices:0:Amount")]
    public async Task StartAsync_EmptyValue_NamesTheKeyInsteadOfFallingBackToTheDefault(string key)
    {
        // An empty value is not a missing key: "ApiBaseUrl": "" left as a placeholder in appsettings.json, or
        // Stripe__ApiBaseUrl=${EMULATOR_URL} with the variable unset. The generated binder takes it for no value and
        // keeps the default (the app would call api.stripe.com instead of the emulator); the reflection binder refused it.
        var failures = await StartFailures(With(ValidSection(), (key, string.Empty)));

        failures.Should().ContainSingle().Which.Should().Contain(key + " ");
    }

    [Fact]
    public async Task StartAsync_SingleValueOverridingAListFromAnotherSource_NamesTheKeyInsteadOfKeepingTheList()
    {
        // appsettings.json lists a development secret ("WebhookSecrets": [ "whsec_…" ]) and production sets
        // Stripe__WebhookSecrets=whsec_… to replace it. The merged section has the value and the JSON's entry :0; the binder
        // binds the entry and ignores the value, so the app starts with the development secret and refuses every webhook.
        // README: a single value where a list belongs stops the app at start-up.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(With(ValidSection(), ("Stripe:WebhookSecrets:0", "whsec_from_appsettings")));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Stripe:WebhookSecrets"] = "whsec_from_the_environment" });
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"));
        using var host = builder.Build();

        var error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>(
            "the app would run with the secret from appsettings.json, not the one the environment set")).Which;

        error.Failures.Should().ContainSingle().Which.Should().StartWith("Stripe:WebhookSecrets must be a list").And.NotContain("whsec_from_the_environment");
    }

    [Fact]
    public async Task StartAsync_ListSetInCodeAsAnArray_AndGivenEntriesInConfiguration_NamesTheKey()
    {
        // The app sets the secrets in code as an array (fixed size) and the section lists them too: the generated binder
        // cannot add to the array, and its NotSupportedException ("Collection was of a fixed size") named nothing.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddInMemoryCollection(With(ValidSection(), ("Stripe:WebhookSecrets:0", "whsec_from_appsettings")));
        builder.Services.Configure<StripePaymentsOptions>(o => o.WebhookSecrets = new[] { "whsec_set_in_code" });
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"));
        using var host = builder.Build();

        var error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<OptionsValidationException>()).Which;

        error.Failures.Should().ContainSingle().Which.Should().Contain("Stripe section")
            .And.Contain("fixed size").And.NotContain("whsec_");
    }

    [Theory]
    [InlineData("Stripe:MaxNetworkRetries", "11", "Stripe:MaxNetworkRetries must be between 0 and 10 (Stripe's clients use 2).")]
    [InlineData("Stripe:RequestTimeout", "00:00:00.5", "Stripe:RequestTimeout must be between 00:00:01 and 00:10:00 (Stripe's clients use 00:01:20).")]
    [InlineData("Stripe:WebhookTolerance", "2.00:00:00", "Stripe:WebhookTolerance must be between 00:00:00 and 1.00:00:00 (Stripe's clients use 00:05:00).")]
    [InlineData("Stripe:WebhookMaxBodySize", "10", "Stripe:WebhookMaxBodySize must be between 1024 and 67108864 (the default is 1048576 bytes).")]
    [InlineData("Stripe:WebhookQueue:MaxConcurrency", "0", "Stripe:WebhookQueue:MaxConcurrency must be between 1 and 256 (the default is 4).")]
    [InlineData("Stripe:WebhookQueue:HandlerTimeout", "-00:00:01", "Stripe:WebhookQueue:HandlerTimeout must be between 00:00:01 and 1.00:00:00 (the default is 00:00:00: no limit).")]
    [InlineData("Stripe:WebhookQueue:HandlerTimeout", "00:00:00.5", "Stripe:WebhookQueue:HandlerTimeout must be between 00:00:01 and 1.00:00:00 (the default is 00:00:00: no limit).")]
    [InlineData("Stripe:WebhookQueue:HandlerTimeout", "2.00:00:00", "Stripe:WebhookQueue:HandlerTimeout must be between 00:00:01 and 1.00:00:00 (the default is 00:00:00: no limit).")]
    [InlineData("Stripe:WebhookEventRetention", "1.00:00:00", "Stripe:WebhookEventRetention must be between 3.00:00:00 and 3650.00:00:00 (the default is 30.00:00:00; 00:00:00 keeps everything; Stripe retries for three days).")]
    public async Task StartAsync_ValueOutOfRange_NamesTheKeyAndTheUsualValue(string key, string value, string expected)
    {
        var failures = await StartFailures(With(ValidSection(), (key, value)));

        failures.Should().ContainSingle().Which.Should().Be(expected);
    }

    [Theory]
    [InlineData(null, 0)]
    [InlineData("00:00:00", 0)]
    [InlineData("00:00:01", 1)]
    [InlineData("00:02:00", 120)]
    public async Task StartAsync_HandlerTimeout_IsReadFromTheQueueSection_AndUnsetOrZeroMeansNoLimit(string? value, int seconds)
    {
        using var host = BuildHost(value is null ? ValidSection() : With(ValidSection(), ("Stripe:WebhookQueue:HandlerTimeout", value)));
        await host.StartAsync();

        host.Services.GetRequiredService<IOptions<StripePaymentsOptions>>().Value.WebhookQueue.HandlerTimeout.Should().Be(TimeSpan.FromSeconds(seconds));
        await host.StopAsync();
    }

    public static TheoryData<string, string, string?, string?> MisconfiguredSecrets => new()
    {
        // Where the secret ends up, the secret, and another setting changed to make the configuration fail.
        { "Stripe:SecretKey", LiveKey, "Stripe:Plans:0:Prices:0:LivePriceId", null },
        { "Stripe:SecretKey", "sk_tset_51ValidationSecretNeverShown", null, null },
        { "Stripe:SecretKey", "rk_live_51ValidationSecretNeverShown", "Stripe:PublishableKey", "pk_test_51Other" },
        { "Stripe:PublishableKey", TestKey, null, null },
        { "Stripe:WebhookSecrets:0", TestKey, null, null },
        { "Stripe:WebhookSecrets:0", "whsec_51ValidationSecretNeverShown", "Stripe:SecretKey", "sk_tset_x" },
        { "Stripe:Plans:0:Prices:0:TestPriceId", TestKey, null, null },
        { "Stripe:Plans:1:Prices:0:Currency", TestKey, null, null },
        { "Stripe:Plans:1:Id", TestKey, "Stripe:Plans:1:Prices:0:Currency", "usdollar" },
        { "Stripe:Plans:0:Id", TestKey, "Stripe:Plans:1:Id", TestKey },
        { "Stripe:SuccessUrl", TestKey, null, null },
        { "Stripe:ApiBaseUrl", TestKey, null, null },
        { "Stripe:MaxNetworkRetries", TestKey, null, null },
        { "Stripe:WebhookTolerance", TestKey, null, null },
        { "Stripe:Plans:0:BillingType", TestKey, null, null },
    };

    [Theory]
    [MemberData(nameof(MisconfiguredSecrets))]
    public async Task StartAsync_AnyFailure_NeverQuotesTheSecretKey(string where, string secret, string? otherKey, string? otherValue)
    {
        var settings = With(ValidSection(where == "Stripe:SecretKey" ? secret : TestKey), (where, secret));
        if (otherKey is not null)
        {
            settings[otherKey] = otherValue;
        }

        using var host = BuildHost(settings, Environments.Development);
        var error = (await FluentActions.Awaiting(() => host.StartAsync()).Should().ThrowAsync<Exception>()).Which;

        error.Should().BeOfType<OptionsValidationException>();
        error.ToString().Should().NotContain("51ValidationSecretNeverShown");
    }

    [Fact]
    public void Binder_KnowsEveryClassOfTheStripeSection()
    {
        // The binder names the option classes one by one (so that a trimmed app keeps their properties): a class added
        // under StripePaymentsOptions and not listed there would fail every start whose section sets it.
        var classes = new HashSet<Type>();
        var pending = new Stack<Type>([typeof(StripePaymentsOptions)]);
        while (pending.TryPop(out var type))
        {
            if (type.IsGenericType && typeof(System.Collections.IEnumerable).IsAssignableFrom(type))
            {
                pending.Push(type.GetGenericArguments()[^1]);
            }
            else if (type.Namespace?.StartsWith("Wavhaven.", StringComparison.Ordinal) == true && type.IsClass && classes.Add(type))
            {
                foreach (var property in type.GetProperties())
                {
                    pending.Push(property.PropertyType);
                }
            }
        }

        classes.Should().BeEquivalentTo([typeof(StripePaymentsOptions), typeof(WebhookQueueOptions), typeof(PlanOptions), typeof(PlanPriceOptions)]);
        StripePaymentsOptionsBinder.Sections.Keys.Should().BeEquivalentTo(classes);
    }

    [Fact]
    public void AddStripePayments_NullArguments_Throw()
    {
        var services = new ServiceCollection();
        var section = new ConfigurationBuilder().Build().GetSection("Stripe");

        FluentActions.Invoking(() => StripePaymentsServiceCollectionExtensions.AddStripePayments(null!, section))
            .Should().Throw<ArgumentNullException>().WithParameterName("services");
        FluentActions.Invoking(() => services.AddStripePayments((IConfiguration)null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("configuration");
        FluentActions.Invoking(() => StripePaymentsServiceCollectionExtensions.AddStripePayments(null!, _ => { }))
            .Should().Throw<ArgumentNullException>().WithParameterName("services");
        FluentActions.Invoking(() => services.AddStripePayments((Action<StripePaymentsOptions>)null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("configure");
        FluentActions.Invoking(() => StripePaymentsBuilderExtensions.UseCustomerStore<InMemoryTestStore>(null!))
            .Should().Throw<ArgumentNullException>().WithParameterName("builder");
    }

    [Fact]
    public void AddStripePayments_CalledTwice_RegistersEachServiceAndValidatorOnce()
    {
        var services = new ServiceCollection();
        var section = new ConfigurationBuilder().AddInMemoryCollection(ValidSection()).Build().GetSection("Stripe");

        services.AddStripePayments(section);
        services.AddStripePayments(section);

        services.Count(d => d.ServiceType == typeof(ICheckoutService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IBillingPortalService)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IPlanCatalog)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<StripePaymentsOptions>)).Should().Be(2);
    }

    [Fact]
    public async Task StartAsync_AddStripePaymentsCalledTwiceWithTheSection_BindsThePlansOnce()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(ValidSection());
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"));
        builder.Services.AddStripePayments(builder.Configuration.GetSection("Stripe"));
        using var host = builder.Build();

        await host.StartAsync();

        host.Services.GetRequiredService<IPlanCatalog>().Plans.Select(plan => plan.Id).Should().Equal("beat-license", "pro");
        await host.StopAsync();
    }

    [Fact]
    public void UseCustomerStore_ReplacesTheInMemoryStore()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        var section = new ConfigurationBuilder().AddInMemoryCollection(ValidSection()).Build().GetSection("Stripe");

        services.AddStripePayments(section).UseCustomerStore<InMemoryTestStore>();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<ICustomerStore>().Should().BeOfType<InMemoryTestStore>();
        services.Count(d => d.ServiceType == typeof(ICustomerStore)).Should().Be(1);
    }

    private sealed class InMemoryTestStore : ICustomerStore
    {
        public ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(null);

        public ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}
