using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

/// <summary>
/// A delivery that ends in an exception rather than a <see cref="WebhookResult"/> (the event store is down, the sender
/// went away) is still one delivery: counted once, timed once, and its activity says how it ended.
/// </summary>
[Collection(nameof(WebhookTelemetryCollection))]
public sealed class WebhookFailureTelemetryTests : IDisposable
{
    private readonly TelemetryCapture _telemetry = new();

    public void Dispose() => _telemetry.Dispose();

    /// <summary>
    /// The event store's database is down: every delivery is answered 500 and Stripe retries it for days. The events
    /// counter is what an operator alerts on (outcome=failed), yet it counted nothing, the duration histogram had no
    /// sample, and the Webhook span ended with status Unset, as a success does.
    /// </summary>
    [Fact]
    public async Task Webhook_WhenTheEventStoreThrows_IsCountedAsFailed_Timed_AndItsActivityIsAnError()
    {
        await using var app = await WebhookTestApp.StartAsync(payments: registration => registration
            .AddFulfillmentHandler<LicenseHandler>()
            .UseEventStore<UnreachableEventStore>(ServiceLifetime.Singleton));

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_store_down")));

        response.StatusCode.Should().Be(HttpStatusCode.InternalServerError, "Stripe must deliver it again");
        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.events").Should()
            .ContainSingle("every delivery is counted").Which.Tags.Should()
            .Contain("outcome", "failed").And.Contain("stripe.event.type", "checkout.session.completed");
        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.duration").Should().ContainSingle();
        var webhook = _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.Webhook").Subject;
        webhook.Status.Should().Be(ActivityStatusCode.Error);
        webhook.GetTagItem("outcome").Should().Be("failed");
    }

    /// <summary>
    /// Since c7a0a4a a caller that went away makes <see cref="IWebhookProcessor.ProcessAsync"/> throw
    /// <see cref="OperationCanceledException"/>. The delivery is still one delivery: counted and timed once, with an
    /// outcome that tells it apart from a processed one.
    /// </summary>
    [Fact]
    public async Task Webhook_CancelledByItsCaller_IsCountedAndTimedOnce_AsCancelled()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var sut = app.Services.GetRequiredService<IWebhookProcessor>();
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_caller_left")).ToJsonString());
        var header = StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await FluentActions.Awaiting(() => sut.ProcessAsync(body, header, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();

        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.events").Should()
            .ContainSingle().Which.Tags.Should().Contain("outcome", "cancelled");
        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.duration").Should().ContainSingle();
        _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.Webhook")
            .Which.GetTagItem("outcome").Should().Be("cancelled");
    }

    /// <summary>
    /// The success page is fulfilling the purchase when its webhook arrives (they race on every purchase): the webhook is
    /// answered 409 in_progress and nothing failed, but handler.duration tagged the fulfillment outcome=failed, so an alert
    /// on failing handlers fires on ordinary traffic.
    /// </summary>
    [Fact]
    public async Task HandlerDuration_WhenThePurchaseIsBeingFulfilledElsewhere_IsNotTaggedFailed()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var store = app.Services.GetRequiredService<IWebhookEventStore>();
        (await store.TryClaimAsync("checkout.session:cs_test_racing_page", "checkout.session", ReadOnlyMemory<byte>.Empty)).Status
            .Should().Be(WebhookClaimStatus.Claimed, "the success page holds the purchase");

        using var response = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_racing_page")));

        response.StatusCode.Should().Be(HttpStatusCode.Conflict);
        _telemetry.Measurements.Should().ContainSingle(m => m.Instrument == "wavhaven.payments.webhook.events")
            .Which.Tags.Should().Contain("outcome", "in_progress");
        _telemetry.Measurements.Should().ContainSingle(m => m.Instrument == "wavhaven.payments.handler.duration")
            .Which.Tags.Should().NotContain("outcome", "failed", "no handler failed: the purchase is being fulfilled by the success page");
    }


    /// <summary>An event store whose database cannot be reached.</summary>
    public sealed class UnreachableEventStore : IWebhookEventStore
    {
        public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The event store's database cannot be reached.");

        public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The event store's database cannot be reached.");

        public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The event store's database cannot be reached.");

        public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The event store's database cannot be reached.");
    }
}
