using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Diagnostics;

[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>What one checkout records: activities and metrics with useful tags, and no secrets or emails in them.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class PaymentsTelemetryTests : IDisposable
{
    private readonly ConcurrentQueue<Activity> _activities = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, string?> Tags)> _measurements = new();
    private readonly ActivityListener _activityListener;
    private readonly MeterListener _meterListener;

    public PaymentsTelemetryTests()
    {
        _activityListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == PaymentsTelemetry.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _activities.Enqueue,
        };
        ActivitySource.AddActivityListener(_activityListener);

        _meterListener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PaymentsTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _meterListener.Start();
    }

    public void Dispose()
    {
        _activityListener.Dispose();
        _meterListener.Dispose();
    }

    [Fact]
    public async Task Checkout_RecordsACheckoutActivityAndAStripeCall_WithoutSecretsOrEmails()
    {
        var handler = new StubStripeHandler()
            .Then(StubStripeHandler.Error(HttpStatusCode.ServiceUnavailable, "api_error", "Try again"))
            .Then(StubStripeHandler.Json("""{"id":"cs_test_telemetry","object":"checkout.session","url":"https://checkout.stripe.com/c/pay/cs_test_telemetry","expires_at":1900000000}"""));
        var sink = new LogSink();
        using var services = TestServices.Build(handler, services: collection => collection.AddLogging(logging => logging.AddProvider(sink)));
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        await sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("secret.buyer@example.com", "order-1"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        });

        var checkout = _activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.CreateCheckout").Subject;
        checkout.GetTagItem("stripe.checkout_session.id").Should().Be("cs_test_telemetry");
        checkout.GetTagItem("wavhaven.checkout.buyer").Should().Be("guest");
        var call = _activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.StripeCall").Subject;
        call.ParentSpanId.Should().Be(checkout.SpanId);
        call.GetTagItem("stripe.endpoint").Should().Be("/v1/checkout/sessions");
        call.GetTagItem("http.response.status_code").Should().Be(200);
        call.GetTagItem("stripe.attempts").Should().Be(2);

        _measurements.Should().ContainSingle(m => m.Instrument == "wavhaven.payments.stripe.request.duration")
            .Which.Tags.Should().Contain("stripe.endpoint", "/v1/checkout/sessions").And.Contain("http.response.status_code", "200");
        _measurements.Should().ContainSingle(m => m.Instrument == "wavhaven.payments.stripe.retries")
            .Which.Tags.Should().Contain("reason", "503");

        var everyTag = _activities.SelectMany(a => a.TagObjects.Select(t => t.Value?.ToString()))
            .Concat(_measurements.SelectMany(m => m.Tags.Values));
        everyTag.Should().NotContain(value => value != null && (value.Contains("secret.buyer", StringComparison.Ordinal) || value.Contains(TestServices.SecretKey, StringComparison.Ordinal)));
        var logs = sink.Lines.Select(line => line.Message + line.Exception).ToList();
        logs.Should().Contain(line => line.Contains("cs_test_telemetry", StringComparison.Ordinal), "the checkout is logged");
        logs.Should().NotContain(line => line.Contains("secret.buyer", StringComparison.Ordinal) || line.Contains(TestServices.SecretKey, StringComparison.Ordinal));
    }

    /// <summary>
    /// The success page passes the browser's session_id on to Stripe. Guessed from the path, an id without a digit or a
    /// capital ("aaaa", an email) was kept as it was: every visitor could mint a new stripe.endpoint value, and put
    /// personal data in a metrics backend.
    /// </summary>
    /// <summary>An expiry is traced as such, with its outcome, and its Stripe call is tagged with the path's template whatever the id.</summary>
    [Fact]
    public async Task ExpireCheckout_IsTracedWithItsOutcome_AndTemplatesItsEndpoint()
    {
        var handler = new StubStripeHandler()
            .OnJson(HttpMethod.Post, "/v1/checkout/sessions/*", """{"id":"plainword","object":"checkout.session","status":"expired","payment_status":"unpaid"}""");
        using var services = TestServices.Build(handler);
        using var scope = services.CreateScope();

        await scope.ServiceProvider.GetRequiredService<ICheckoutService>().ExpireCheckoutAsync("plainword");

        var expire = _activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.ExpireCheckout").Subject;
        expire.GetTagItem("wavhaven.checkout.expire_status").Should().Be("expired");
        expire.GetTagItem("stripe.checkout_session.id").Should().Be("plainword");
        var call = _activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.StripeCall").Subject;
        call.GetTagItem("stripe.endpoint").Should().Be("/v1/checkout/sessions/{id}/expire");
        call.Parent.Should().BeSameAs(expire);
    }

    [Fact]
    public async Task SyncCheckout_WithVisitorChosenSessionIds_KeepsOneStripeEndpointTagValue()
    {
        var handler = new StubStripeHandler()
            .On(HttpMethod.Get, "/v1/checkout/sessions/*", _ => StubStripeHandler.Error(HttpStatusCode.NotFound, "invalid_request_error", "No such checkout.session"));
        using var services = TestServices.Build(handler);
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        foreach (var id in (string[])["aaaa", "bbbb", "jane@example.com"])
        {
            await FluentActions.Awaiting(() => sut.SyncCheckoutAsync(id)).Should().ThrowAsync<Payments.Stripe.StripeApiException>();
        }

        _measurements.Where(m => m.Instrument == "wavhaven.payments.stripe.request.duration").Select(m => m.Tags["stripe.endpoint"])
            .Should().HaveCount(3).And.AllBe("/v1/checkout/sessions/{id}");
        _activities.Where(a => a.OperationName == "Wavhaven.Payments.StripeCall").Select(a => a.GetTagItem("stripe.endpoint"))
            .Should().HaveCount(3).And.AllBeEquivalentTo("/v1/checkout/sessions/{id}");
    }

    [Theory]
    [InlineData("/v1/checkout/sessions", "/v1/checkout/sessions")]
    [InlineData("/v1/checkout/sessions/cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY/line_items", "/v1/checkout/sessions/{id}/line_items")]
    [InlineData("/v1/subscriptions/sub_1Pgc6rB7WZ01zgkWNy0Cn5nw", "/v1/subscriptions/{id}")]
    [InlineData("/v1/billing_portal/sessions", "/v1/billing_portal/sessions")]
    [InlineData("/v1/customers/search", "/v1/customers/search")]
    public void EndpointTemplate_ReplacesIdsOnly(string path, string expected) =>
        PaymentsTelemetry.EndpointTemplate(path).Should().Be(expected);

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue?.ToString();
        }

        _measurements.Enqueue((instrument.Name, value, copy));
    }
}
