using System.Diagnostics;
using System.Net;
using System.Text;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Diagnostics;

/// <summary>
/// Every delivery the endpoint refuses is counted in <c>wavhaven.payments.webhook.events</c>, as the one refused for its
/// signature is: an operator alerting on refusals must see a flood of oversized bodies too.
/// </summary>
[Collection(nameof(WebhookTelemetryCollection))]
public sealed class WebhookRefusalTelemetryTests : IDisposable
{
    private const int Cap = 4096;

    private readonly TelemetryCapture _telemetry = new();

    public void Dispose() => _telemetry.Dispose();

    /// <summary>
    /// A body over Stripe:WebhookMaxBodySize was answered 413 and counted nowhere, while a delivery without a signature
    /// is counted with outcome invalid_signature: neither could be verified. Both framings are refused, and counted:
    /// a declared length over the cap (refused before any byte is read) and a chunked body that passes it as it comes.
    /// </summary>
    [Theory]
    [InlineData("declared length")]
    [InlineData("chunked")]
    public async Task BodyOverTheCap_IsCountedAndTimed_AsTheUnsignedOneIs(string framing)
    {
        await using var app = await WebhookTestApp.StartAsync(options => options.WebhookMaxBodySize = Cap);
        using (var unsigned = await app.PostRawAsync(Encoding.UTF8.GetBytes("{}"), signatureHeader: null))
        {
            unsigned.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        }

        var unsignedCount = Counted().Should().ContainSingle().Subject;
        var body = Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 2 * Cap) + "\"}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/stripe")
        {
            Content = framing == "chunked" ? new StreamContent(new MemoryStream(body)) : new ByteArrayContent(body),
        };
        request.Headers.TransferEncodingChunked = framing == "chunked";
        request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow));

        using var response = await app.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
        var counted = Counted();
        counted.Should().HaveCount(2, "the oversized body is a delivery too");
        counted[1].Should().BeEquivalentTo(unsignedCount).And.Contain("outcome", "invalid_signature").And.Contain("stripe.event.type", "unknown");
        _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.duration").Should().HaveCount(2);
        var refused = _telemetry.Activities.Where(a => a.OperationName == "Wavhaven.Payments.Webhook").Should().HaveCount(2).And.Subject.Last();
        refused.GetTagItem("outcome").Should().Be("invalid_signature");
        refused.Status.Should().Be(ActivityStatusCode.Error);
        refused.StatusDescription.Should().Be("body too large");
    }

    private List<Dictionary<string, object?>> Counted() =>
        [.. _telemetry.Measurements.Where(m => m.Instrument == "wavhaven.payments.webhook.events").Select(m => m.Tags)];
}
