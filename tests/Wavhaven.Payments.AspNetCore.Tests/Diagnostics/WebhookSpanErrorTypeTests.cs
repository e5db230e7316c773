using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

/// <summary>A Webhook span that ended in an exception says which, in OpenTelemetry's <c>error.type</c>.</summary>
[Collection(nameof(WebhookTelemetryCollection))]
public sealed class WebhookSpanErrorTypeTests : IDisposable
{
    private readonly TelemetryCapture _telemetry = new();

    public void Dispose() => _telemetry.Dispose();

    /// <summary>
    /// The event store's database is down: the span is an error, but what failed is only in the status description (the
    /// exception's short name), not in <c>error.type</c>, the attribute OpenTelemetry backends group failed spans by.
    /// </summary>
    [Fact]
    public async Task Webhook_WhenTheEventStoreThrows_CarriesErrorType_OnItsSpan()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: registration => registration
            .AddFulfillmentHandler<LicenseHandler>()
            .UseEventStore<WebhookFailureTelemetryTests.UnreachableEventStore>(ServiceLifetime.Singleton));

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_store_down_type")));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var webhook = _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.Webhook").Subject;
        webhook.Status.Should().Be(ActivityStatusCode.Error);
        webhook.GetTagItem("error.type").Should().Be(typeof(InvalidOperationException).FullName);
    }
    /// <summary>
    /// The commonest failed delivery: a handler throws, the delivery is answered 500 and its span is an error, but the span
    /// has no <c>error.type</c> (the handler's exception is caught inside the processor), so a backend that groups failed
    /// spans by it shows every handler failure as untyped. The README lists <c>error.type</c> "when it ended in an exception".
    /// </summary>
    [Fact]
    public async Task Webhook_WhenAHandlerThrows_CarriesTheHandlersErrorType_OnItsSpan()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: registration => registration.AddFulfillmentHandler<LicenseHandler>());
        app.Recorder.FulfillmentFailuresLeft = 1;

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_handler_throws_type")));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError);
        var webhook = _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.Webhook").Subject;
        webhook.GetTagItem("outcome").Should().Be("failed");
        webhook.Status.Should().Be(ActivityStatusCode.Error);
        webhook.GetTagItem("error.type").Should().Be(typeof(InvalidOperationException).FullName, "the handler's exception ended the delivery");
    }
}
