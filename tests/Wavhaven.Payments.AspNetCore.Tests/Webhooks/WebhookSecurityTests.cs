using System.Net;
using System.Text;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>Every bad delivery is answered without running a handler; real HMAC signatures over real HTTP.</summary>
public class WebhookSecurityTests
{
    private static byte[] PaidCheckout() =>
        Encoding.UTF8.GetBytes(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_security")).ToJsonString());

    public static TheoryData<string, HttpStatusCode, string> BadDeliveries() => new()
    {
        { "no header", HttpStatusCode.BadRequest, "missing Stripe-Signature header" },
        { "garbage header", HttpStatusCode.BadRequest, "malformed Stripe-Signature header" },
        { "header without v1", HttpStatusCode.BadRequest, "no v1 signature" },
        { "wrong secret", HttpStatusCode.BadRequest, "no signature matches" },
        { "tampered body", HttpStatusCode.BadRequest, "no signature matches" },
        { "301 s old", HttpStatusCode.BadRequest, "outside the tolerance" },
        { "305 s ahead", HttpStatusCode.BadRequest, "outside the tolerance" },
        { "empty body", HttpStatusCode.BadRequest, "not valid JSON" },
        { "invalid JSON", HttpStatusCode.BadRequest, "not valid JSON" },
        { "JSON that is not an event", HttpStatusCode.BadRequest, "not an event" },
        { "JSON without data.object", HttpStatusCode.BadRequest, "needs an id, a type and data.object" },
        { "body over the cap", HttpStatusCode.RequestEntityTooLarge, "body too large" },
    };

    [Theory]
    [MemberData(nameof(BadDeliveries))]
    public async Task BadDelivery_IsRefusedWithItsReason_AndRunsNoHandler(string delivery, HttpStatusCode expectedStatus, string expectedReason)
    {
        await using var app = await WebhookTestApp.StartAsync(options => options.WebhookMaxBodySize = 64 * 1024);
        var body = PaidCheckout();
        var now = DateTimeOffset.UtcNow;
        string Sign(byte[] payload, string secret = WebhookTestApp.Secret, DateTimeOffset? at = null) => StripeWebhookSignature.CreateHeader(payload, secret, at ?? now);

        using var response = delivery switch
        {
            "no header" => await app.PostRawAsync(body, null),
            "garbage header" => await app.PostRawAsync(body, "garbage"),
            "header without v1" => await app.PostRawAsync(body, "t=" + now.ToUnixTimeSeconds() + ",v0=abc"),
            "wrong secret" => await app.PostRawAsync(body, Sign(body, "whsec_someone_else")),
            "tampered body" => await app.PostRawAsync(Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace("\"paid\"", "\"unpaid\"", StringComparison.Ordinal)), Sign(body)),
            "301 s old" => await app.PostRawAsync(body, Sign(body, at: now.AddSeconds(-301))),
            // Not 301: the timestamp is in whole seconds, so a request that crossed a second boundary on its way would
            // arrive 300 s ahead, within the tolerance. 305 s leaves the request 4 s to arrive.
            "305 s ahead" => await app.PostRawAsync(body, Sign(body, at: now.AddSeconds(305))),
            "empty body" => await app.PostRawAsync([], Sign([])),
            "invalid JSON" => await app.PostAsync(Encoding.UTF8.GetBytes("{\"id\": \"evt_1\", ")),
            "JSON that is not an event" => await app.PostAsync(Encoding.UTF8.GetBytes("""{"id":"cus_1","object":"customer","type":"x","data":{"object":{}}}""")),
            "JSON without data.object" => await app.PostAsync(Encoding.UTF8.GetBytes("""{"id":"evt_1","object":"event","type":"checkout.session.completed"}""")),
            "body over the cap" => await app.PostAsync(Encoding.UTF8.GetBytes("{\"pad\":\"" + new string('x', 70 * 1024) + "\"}")),
            _ => throw new ArgumentOutOfRangeException(nameof(delivery)),
        };

        response.StatusCode.Should().Be(expectedStatus);
        (await response.Content.ReadAsStringAsync()).Should().Contain(expectedReason);
        app.Recorder.Fulfilled.Should().BeEmpty();
        app.Stripe.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ChunkedBodyOverTheCap_IsRefusedWith413()
    {
        await using var app = await WebhookTestApp.StartAsync(options => options.WebhookMaxBodySize = 4096);
        var body = Encoding.UTF8.GetBytes(new string(' ', 10_000) + "{}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/stripe") { Content = new StreamContent(new MemoryStream(body)) };
        request.Headers.TransferEncodingChunked = true;
        request.Headers.TryAddWithoutValidation("Stripe-Signature", StripeWebhookSignature.CreateHeader(body, WebhookTestApp.Secret, DateTimeOffset.UtcNow));

        using var response = await app.Client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task SecretRotation_AcceptsEitherSecret()
    {
        await using var app = await WebhookTestApp.StartAsync(options =>
        {
            options.WebhookSecrets.Clear();
            options.WebhookSecrets.Add("whsec_old_secret");
            options.WebhookSecrets.Add("whsec_new_secret");
        });

        using var signedWithOld = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_old")), "whsec_old_secret");
        using var signedWithNew = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_new")), "whsec_new_secret");
        using var signedWithOther = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_other")), "whsec_other_secret");

        signedWithOld.StatusCode.Should().Be(HttpStatusCode.OK);
        signedWithNew.StatusCode.Should().Be(HttpStatusCode.OK);
        signedWithOther.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        app.Recorder.Fulfilled.Select(c => c.SessionId).Should().BeEquivalentTo("cs_test_old", "cs_test_new");
    }

    [Fact]
    public async Task SecretsAndEmails_NeverReachTheLogs()
    {
        await using var app = await WebhookTestApp.StartAsync();

        using var ok = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_logs", email: "private.person@example.com")));
        using var bad = await app.PostAsync(TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_logs2")), "whsec_wrong_secret");

        ok.StatusCode.Should().Be(HttpStatusCode.OK);
        bad.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        var everything = string.Join('\n', app.Logs.Lines.Select(line => line.Message + line.Exception));
        everything.Should().Contain("cs_test_logs")
            .And.NotContain(WebhookTestApp.Secret)
            .And.NotContain("whsec_wrong_secret")
            .And.NotContain("private.person@example.com")
            .And.NotContain(Payments.Tests.Support.TestServices.SecretKey);
    }
}
