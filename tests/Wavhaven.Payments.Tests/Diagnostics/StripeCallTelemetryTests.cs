using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Diagnostics;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Diagnostics;

/// <summary>
/// The Stripe call's and the checkout's telemetry on the paths that do not end in a 2xx: each call records its duration
/// once, with tags of the types OpenTelemetry's HTTP conventions give them, and a failed operation's activity says so.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class StripeCallTelemetryTests : IDisposable
{
    private readonly TelemetryCapture _telemetry = new();

    public void Dispose() => _telemetry.Dispose();

    /// <summary>
    /// The success page's sync is cancelled (the buyer closed the tab) while Stripe has not answered yet. The call took
    /// time and went to Stripe: the request-duration histogram records it once, and its span does not look like a success.
    /// </summary>
    [Fact]
    public async Task StripeCall_CancelledByItsCaller_RecordsItsDurationOnce_AndEndsItsActivityAsAnError()
    {
        using var cancellation = new CancellationTokenSource();
        var handler = new StubStripeHandler().Then(async (_, token) =>
        {
            // The buyer leaves 200 ms after the request reached Stripe: counted from here, not from before the first call's
            // JIT and validation, which a loaded machine can stretch past the floor asserted below.
            cancellation.CancelAfter(TimeSpan.FromMilliseconds(200));
            await Task.Delay(Timeout.InfiniteTimeSpan, token);
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        using var services = TestServices.Build(handler);
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        await FluentActions.Awaiting(() => sut.SyncCheckoutAsync("cs_test_Cancelled1", cancellation.Token)).Should().ThrowAsync<OperationCanceledException>();

        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.stripe.request.duration").Should()
            .ContainSingle("one call to Stripe was made and abandoned: a histogram that skips cancellations hides slow calls")
            .Which.Value.Should().BeGreaterThan(0.1);
        var call = _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.StripeCall").Subject;
        call.Status.Should().Be(ActivityStatusCode.Error, "the call did not complete");
    }

    /// <summary>
    /// Stripe refuses the checkout (a 400). The Stripe call's span is an error, and so must the checkout's be: an operator
    /// who looks for failed checkouts filters the CreateCheckout spans by status.
    /// </summary>
    [Fact]
    public async Task CreateCheckout_ThatThrows_EndsTheCheckoutActivityAsAnError()
    {
        var handler = new StubStripeHandler()
            .Then(StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "No such price", param: "line_items[0][price]"));
        using var services = TestServices.Build(handler);
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        await FluentActions.Awaiting(() => sut.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("buyer@example.com", "order-1"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        })).Should().ThrowAsync<StripeApiException>();

        _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.StripeCall")
            .Which.Status.Should().Be(ActivityStatusCode.Error);
        _telemetry.Activities.Should().ContainSingle(a => a.OperationName == "Wavhaven.Payments.CreateCheckout")
            .Which.Status.Should().Be(ActivityStatusCode.Error, "the checkout failed");
    }

    /// <summary>
    /// <c>http.response.status_code</c> is an integer in OpenTelemetry's conventions, and the span carries it as one; the
    /// histogram carried it as a string ("200"), and as "error" when Stripe never answered, where the conventions leave
    /// the status code out and say what went wrong in <c>error.type</c>.
    /// </summary>
    [Fact]
    public async Task StripeRequestDuration_StatusCodeIsAnInteger_AndAnUnansweredCallHasAnErrorTypeInstead()
    {
        var handler = new StubStripeHandler()
            .Then(StubStripeHandler.Json("""{"id":"cs_test_Status1","object":"checkout.session","status":"open","payment_status":"unpaid"}"""))
            .Then((_, _) => throw new HttpRequestException("Connection refused"));
        using var services = TestServices.Build(handler, options => options.MaxNetworkRetries = 0);
        using var scope = services.CreateScope();
        var sut = scope.ServiceProvider.GetRequiredService<ICheckoutService>();

        await sut.SyncCheckoutAsync("cs_test_Status1");
        await FluentActions.Awaiting(() => sut.SyncCheckoutAsync("cs_test_Status2")).Should().ThrowAsync<StripeConnectionException>();

        var recorded = _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.stripe.request.duration").Select(m => m.Tags).ToList();
        recorded.Should().HaveCount(2);
        var call = _telemetry.Activities.First(a => a.OperationName == "Wavhaven.Payments.StripeCall");
        recorded[0]["http.response.status_code"].Should().Be(call.GetTagItem("http.response.status_code")).And.BeOfType<int>().And.Be(200);
        recorded[1].Should().NotContainKey("http.response.status_code", "Stripe never answered");
        recorded[1].Should().ContainKey("error.type");
    }

}
