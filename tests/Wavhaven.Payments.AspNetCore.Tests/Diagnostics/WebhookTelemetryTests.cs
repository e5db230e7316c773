using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Diagnostics;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

[CollectionDefinition(nameof(WebhookTelemetryCollection), DisableParallelization = true)]
public sealed class WebhookTelemetryCollection;

/// <summary>What one webhook records: an activity tagged with the event, and the events counter by type and outcome.</summary>
[Collection(nameof(WebhookTelemetryCollection))]
public sealed class WebhookTelemetryTests
{
    [Fact]
    public async Task Webhook_RecordsAnActivityAndCountsTheOutcome_WithoutSecretsOrEmails()
    {
        var activities = new ConcurrentQueue<Activity>();
        var measurements = new ConcurrentQueue<(string Instrument, Dictionary<string, string?> Tags)>();
        using var activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PaymentsTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activities.Enqueue,
        };
        ActivitySource.AddActivityListener(activityListener);
        using var meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PaymentsTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        meterListener.SetMeasurementEventCallback<long>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Copy(tags))));
        meterListener.SetMeasurementEventCallback<double>((instrument, _, tags, _) => measurements.Enqueue((instrument.Name, Copy(tags))));
        meterListener.Start();
        await using var app = await WebhookTestApp.StartAsync();
        var stripeEvent = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_otel", email: "hidden.buyer@example.com"));

        using var first = await app.PostAsync(stripeEvent);
        using var duplicate = await app.PostAsync(stripeEvent);

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        duplicate.StatusCode.Should().Be(HttpStatusCode.OK);
        var webhookActivities = activities.Where(a => a.OperationName == "Wavhaven.Payments.Webhook").ToList();
        webhookActivities.Should().HaveCount(2);
        webhookActivities.Should().OnlyContain(a => (string?)a.GetTagItem("stripe.event.id") == stripeEvent["id"]!.GetValue<string>());
        webhookActivities.Select(a => a.GetTagItem("outcome")).Should().Equal("processed", "duplicate");

        var counted = measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.events").Select(m => m.Tags).ToList();
        counted.Should().HaveCount(2);
        counted.Should().OnlyContain(tags => tags["stripe.event.type"] == "checkout.session.completed");
        counted.Select(tags => tags["outcome"]).Should().Equal("processed", "duplicate");
        measurements.Should().Contain(m => m.Instrument == "wavhaven.payments.handler.duration" && m.Tags["handler.kind"] == "fulfillment");

        var everyValue = activities.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString()))
            .Concat(measurements.SelectMany(m => m.Tags.Values))
            .Concat(app.Logs.Lines.Select(l => l.Message));
        everyValue.Should().NotContain(value => value != null
            && (value.Contains("hidden.buyer", StringComparison.Ordinal) || value.Contains(WebhookTestApp.Secret, StringComparison.Ordinal)));
    }

    private static Dictionary<string, string?> Copy(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            copy[key] = value?.ToString();
        }

        return copy;
    }
}
