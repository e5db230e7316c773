using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>
/// <see cref="IWebhookProcessor.ProcessAsync"/> honours its token as any .NET async method does: a token cancelled
/// before the call does no work, and a cancellation surfaces as <see cref="OperationCanceledException"/>, not as a
/// handler failure.
/// </summary>
public class WebhookCancellationTests
{
    [Fact]
    public async Task ProcessAsync_CancelledToken_RunsNoHandler_AndThrowsOperationCanceled()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var sut = app.Services.GetRequiredService<IWebhookProcessor>();
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_cancelled")).ToJsonString());
        var header = StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        // A serverless host whose invocation was already cancelled (its time is up) calls the processor.
        var act = async () => await sut.ProcessAsync(body, header, cancelled.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        app.Recorder.Fulfilled.Should().BeEmpty("the caller gave up before the call: nothing may be fulfilled on its behalf");

        // Nothing was recorded either: the next delivery runs the handler once.
        var next = await sut.ProcessAsync(body, header);
        next.Outcome.Should().Be(WebhookOutcome.Processed);
        app.Recorder.Fulfilled.Should().ContainSingle();
    }

    [Fact]
    public async Task ProcessAsync_CancelledWhileAHandlerRuns_ThrowsOperationCanceled_NotAHandlerFailure()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Recorder.FulfillmentDelay = TimeSpan.FromSeconds(30); // the handler awaits with the token it is given
        var sut = app.Services.GetRequiredService<IWebhookProcessor>();
        var body = Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_aborted")).ToJsonString());
        var header = StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow);
        using var aborted = new CancellationTokenSource();
        var processing = sut.ProcessAsync(body, header, aborted.Token);
        await app.Recorder.FulfillmentWaiting.Task.WaitAsync(TimeSpan.FromSeconds(30)); // mid-handler, however slow the machine
        await aborted.CancelAsync();

        var act = async () => await processing;

        await act.Should().ThrowAsync<OperationCanceledException>();
        app.Logs.Lines.Should().NotContain(line => line.EventName == "WebhookHandlerFailed",
            "a caller that went away is not a handler failure: it must not be logged as an error of the app's handler");

        // The event is free for the next delivery at once, not held until a lease runs out.
        app.Recorder.FulfillmentDelay = TimeSpan.Zero;
        using var redelivery = await app.PostAsync(body);
        redelivery.StatusCode.Should().Be(HttpStatusCode.OK);
        (await redelivery.Content.ReadAsStringAsync()).Should().Be("processed");
        app.Recorder.Fulfilled.Should().ContainSingle();
    }
}
