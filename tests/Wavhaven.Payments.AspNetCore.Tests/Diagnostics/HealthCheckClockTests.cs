using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

/// <summary>The health check's cache of Stripe's webhook endpoints, on a wall clock that steps.</summary>
public sealed class HealthCheckClockTests
{
    /// <summary>
    /// A failure to list the endpoints is reported again for 30 seconds without asking Stripe. Its age was read from the wall
    /// clock: after the clock stepped back (an NTP correction, a VM resumed from a snapshot), the age was negative, so the
    /// failure was still "fresh" for as long as the step, an hour here: every probe answered Unhealthy (503), and an
    /// orchestrator kept the instance out of rotation, or restarted it, long after Stripe answered again.
    /// </summary>
    [Fact]
    public async Task CachedFailure_IsNotReportedPastItsHalfMinute_AfterTheWallClockSteppedBack()
    {
        var clock = new SteppingClock(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
        await using var app = await WebhookTestApp.StartAsync(
            options => options.MaxNetworkRetries = 0,
            services: services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddHealthChecks().AddStripePayments();
            },
            map: app => app.MapHealthChecks("/health"));
        var stripeUp = false;
        app.Stripe.On(HttpMethod.Get, "/v1/webhook_endpoints", _ => stripeUp
            ? StubStripeHandler.Json($$"""{"object":"list","has_more":false,"data":[{"id":"we_1","object":"webhook_endpoint","url":"https://shop.example/hooks","api_version":"{{StripeApiVersion.Current}}","status":"enabled"}]}""")
            : StubStripeHandler.Error(HttpStatusCode.ServiceUnavailable, "api_error", "Not now"));
        (await CheckAsync(app)).Status.Should().Be(HealthStatus.Unhealthy);

        stripeUp = true;
        clock.Now -= TimeSpan.FromHours(1); // the step back
        clock.Now += TimeSpan.FromMinutes(2); // and two minutes of real time since the failure

        (await CheckAsync(app)).Status.Should().Be(HealthStatus.Healthy, "the failure was cached two minutes ago, for thirty seconds, and Stripe answers now");
    }

    private static async Task<HealthReportEntry> CheckAsync(WebhookTestApp app) =>
        (await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["stripe"];
}
