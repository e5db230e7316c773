using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

public class StripePaymentsHealthCheckTests
{
    private static string Endpoints(params (string Id, string? ApiVersion, string Status)[] endpoints) => new JsonObject
    {
        ["object"] = "list",
        ["has_more"] = false,
        ["data"] = new JsonArray([.. endpoints.Select(e => (JsonNode)new JsonObject
        {
            ["id"] = e.Id,
            ["object"] = "webhook_endpoint",
            ["url"] = $"https://shop.example/{e.Id}",
            ["api_version"] = e.ApiVersion,
            ["status"] = e.Status,
        })]),
    }.ToJsonString();

    private static Task<WebhookTestApp> StartAsync(Action<StripePaymentsOptions>? options = null) =>
        WebhookTestApp.StartAsync(
            options,
            services: services => services.AddHealthChecks().AddStripePayments(),
            map: app => app.MapHealthChecks("/health"));

    private static async Task<HealthReportEntry> CheckAsync(WebhookTestApp app) =>
        (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["stripe"];

    [Fact]
    public async Task EndpointsAtThePinnedVersion_AreHealthy_OverHttp()
    {
        await using var app = await StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", Endpoints(("we_1", StripeApiVersion.Current, "enabled")));

        using var response = await app.Client.GetAsync("/health");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        (await response.Content.ReadAsStringAsync()).Should().Be("Healthy");
    }

    [Fact]
    public async Task EndpointAtAnotherApiVersion_IsDegraded_AndNamed()
    {
        await using var app = await StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", Endpoints(
            ("we_pinned", StripeApiVersion.Current, "enabled"),
            ("we_old", "2025-03-31.basil", "enabled"),
            ("we_disabled", "2024-06-20", "disabled")));

        var entry = await CheckAsync(app);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("we_old").And.Contain("2025-03-31.basil").And.NotContain("we_disabled");
        entry.Data["mismatched_webhook_endpoints"].Should().Be("we_old");
    }

    /// <summary>
    /// A webhook endpoint's URL at Stripe can carry credentials: HTTP basic auth in its user info (a common way to guard an
    /// endpoint, e.g. stripe_event's), or a token in its query. The check quoted the URL of a mismatched endpoint whole in
    /// its description, which health UIs, publishers' logs (and the sample's open /diagnostics page) show. The endpoint's
    /// id names it, and its host and path say where it points.
    /// </summary>
    [Fact]
    public async Task EndpointAtAnotherApiVersion_IsNamed_WithoutTheCredentialsInItsUrl()
    {
        await using var app = await StartAsync();
        var list = new JsonObject
        {
            ["object"] = "list",
            ["has_more"] = false,
            ["data"] = new JsonArray(new JsonObject
            {
                ["id"] = "we_old",
                ["object"] = "webhook_endpoint",
                ["url"] = "https://stripe:basic-auth-password@shop.example/api/webhooks/stripe?token=query-token-secret",
                ["api_version"] = "2025-03-31.basil",
                ["status"] = "enabled",
            }),
        }.ToJsonString();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", list);

        var entry = await CheckAsync(app);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("we_old").And.Contain("shop.example/api/webhooks/stripe");
        entry.Description.Should().NotContain("basic-auth-password").And.NotContain("query-token-secret");
        entry.Data.Values.Select(value => value.ToString()).Should().NotContain(value => value!.Contains("basic-auth-password", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoWebhookSecret_IsDegraded()
    {
        await using var app = await StartAsync(options => options.WebhookSecrets.Clear());
        app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", Endpoints());

        var entry = await CheckAsync(app);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("Stripe:WebhookSecrets is empty");
    }

    [Fact]
    public async Task StripeUnreachable_IsTheFailureStatus_WithoutSecrets()
    {
        await using var app = await StartAsync(options => options.MaxNetworkRetries = 0);
        app.Stripe.On(HttpMethod.Get, "/v1/webhook_endpoints", _ => StubStripeHandler.Error(HttpStatusCode.Unauthorized, "invalid_request_error", "Invalid API Key provided"));

        var entry = await CheckAsync(app);

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain("could not be listed").And.Contain("401").And.NotContain(TestServices.SecretKey);
    }

    /// <summary>
    /// A restricted key (rk_) without read access to webhook endpoints gets 403: Stripe was reached and payments work, so
    /// a readiness probe must not take the instance out of rotation for it. Only the version check is skipped.
    /// </summary>
    [Fact]
    public async Task EndpointListingRefused_IsDegraded_NotTheFailureStatus()
    {
        await using var app = await StartAsync(options => options.SecretKey = "rk_test_51RestrictedKeyForPayments");
        app.Stripe.On(HttpMethod.Get, "/v1/webhook_endpoints", _ => StubStripeHandler.Error(
            HttpStatusCode.Forbidden, "invalid_request_error", "The provided key does not have the required permissions for this endpoint."));

        var entry = await CheckAsync(app);

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Contain("could not be listed (403), so their API versions were not checked").And.Contain("required permissions");
    }

    /// <summary>
    /// A failure to list was not kept: while Stripe was down, every probe (every few seconds) waited out the client's
    /// retries and timeouts again, one behind the other. It is reported again for half a minute without asking.
    /// </summary>
    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable, HealthStatus.Unhealthy)]
    [InlineData(HttpStatusCode.Forbidden, HealthStatus.Degraded)]
    public async Task AFailureToList_IsReportedAgainWithoutAskingStripe_ForRepeatedProbes(HttpStatusCode status, HealthStatus expected)
    {
        await using var app = await StartAsync(options => options.MaxNetworkRetries = 0);
        app.Stripe.On(HttpMethod.Get, "/v1/webhook_endpoints", _ => StubStripeHandler.Error(status, "api_error", "Not now"));

        for (var i = 0; i < 5; i++)
        {
            (await CheckAsync(app)).Status.Should().Be(expected);
        }

        app.Stripe.Requests.Should().ContainSingle(r => r.Path == "/v1/webhook_endpoints");
    }

    [Fact]
    public async Task EndpointsAreListedOnce_ForRepeatedProbes()
    {
        await using var app = await StartAsync();
        app.Stripe.OnJson(HttpMethod.Get, "/v1/webhook_endpoints", Endpoints(("we_1", StripeApiVersion.Current, "enabled")));

        for (var i = 0; i < 5; i++)
        {
            (await CheckAsync(app)).Status.Should().Be(HealthStatus.Healthy);
        }

        app.Stripe.Requests.Should().ContainSingle(r => r.Path == "/v1/webhook_endpoints");
    }

    [Fact]
    public async Task InvalidOptions_AreReportedAsMisconfigured_NotAsAFailingCheck()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddStripePayments(options => options.WebhookTolerance = TimeSpan.FromSeconds(-1));
        services.AddHealthChecks().AddStripePayments();
        await using var provider = services.BuildServiceProvider();

        var entry = (await provider.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["stripe"];

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().StartWith("Stripe payments are misconfigured:").And.Contain("Stripe:SecretKey");
    }
}
