using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Diagnostics;

/// <summary>
/// What an SRE who exports the library's telemetry with OpenTelemetry (as the README shows) gets: histograms whose
/// buckets fit their unit, and spans that say why a failed operation failed.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class TelemetryConventionsTests : IDisposable
{
    private readonly TelemetryCapture _telemetry = new();

    public void Dispose() => _telemetry.Dispose();

    /// <summary>
    /// The durations are in seconds (OpenTelemetry's convention), but no bucket advice goes with them: the OpenTelemetry
    /// SDK then applies its default explicit buckets, 0, 5, 10, 25, 50, 75, 100, 250, … 10000, which are made for
    /// milliseconds. Every Stripe call, webhook delivery and handler that takes under five seconds (all of them, in
    /// health) lands in the first bucket, so p50/p95/p99 of the exported histograms say nothing. .NET's own
    /// <c>http.client.request.duration</c> advises [0.005 … 10] for this reason (InstrumentAdvice, .NET 9+), and the
    /// SDK honours that advice.
    /// </summary>
    [Fact]
    public void DurationHistograms_InSeconds_AdviseSubSecondBucketBoundaries()
    {
        var histograms = new List<Histogram<double>>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Name == PaymentsTelemetry.Name && instrument is Histogram<double> histogram && instrument.Unit == "s")
                {
                    histograms.Add(histogram);
                }
            };
            _ = PaymentsTelemetry.Meter; // the instruments are created with the meter
            listener.Start();
        }

        histograms.Select(h => h.Name).Should().Contain(
            ["wavhaven.payments.webhook.duration", "wavhaven.payments.handler.duration", "wavhaven.payments.stripe.request.duration"]);
        foreach (var histogram in histograms)
        {
            var boundaries = histogram.Advice?.HistogramBucketBoundaries;
            boundaries.Should().NotBeNull("{0} is in seconds: without advice the SDK's millisecond buckets put every sample under 5 s in one bucket", histogram.Name);
            boundaries!.Count(boundary => boundary < 1).Should().BeGreaterThanOrEqualTo(5, "{0} must tell a 50 ms call from a 500 ms one", histogram.Name);
        }
    }

    /// <summary>
    /// Stripe cannot be reached (connection refused on both attempts). The README says the StripeCall activity carries the
    /// attempts, and the request-duration histogram carries <c>error.type</c> for a call that got no answer; the span of
    /// exactly such a call carries neither: no <c>error.type</c> (OpenTelemetry's HTTP client spans require it when the
    /// request ended in an error), no <c>http.response.status_code</c>, and no <c>stripe.attempts</c>, so a trace of an
    /// outage does not say what failed, nor that the client retried.
    /// </summary>
    [Fact]
    public async Task StripeCall_ThatGotNoAnswer_CarriesErrorTypeAndAttempts_OnItsSpan()
    {
        var handler = new StubStripeHandler()
            .Then((_, _) => throw new HttpRequestException("Connection refused"))
            .Then((_, _) => throw new HttpRequestException("Connection refused"));
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 1);
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        await FluentActions.Awaiting(() => sut.SyncCheckoutAsync("cs_test_Unreachable1")).Should().ThrowAsync<StripeConnectionException>();

        handler.Requests.Should().HaveCount(2);
        var metric = _telemetry.Measurements.Should().ContainSingle(m => m.Instrument == "wavhaven.payments.stripe.request.duration").Subject;
        var call = _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.StripeCall").Subject;
        call.Status.Should().Be(ActivityStatusCode.Error);
        call.GetTagItem("error.type").Should().NotBeNull("the span of a call that failed says what failed, as its metric does")
            .And.Be(metric.Tags["error.type"]);
        call.GetTagItem("stripe.attempts").Should().Be(2, "the README lists attempts among the StripeCall activity's tags, and an outage is when they matter");
    }
}
