using System.Text;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>Stripe's own test vectors (stripe-api-facts.md §5) and every way a signature can fail.</summary>
public class StripeWebhookSignatureTests
{
    private const string Secret = "whsec_test_secret";
    private const string Payload = """{"id":"evt_test_1","object":"event","type":"checkout.session.completed"}""";
    private const string Vector1 = "t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08";
    private static readonly DateTimeOffset SignedAt = DateTimeOffset.FromUnixTimeSeconds(1700000000);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private static WebhookSignatureStatus Verify(string payload, string? header, DateTimeOffset now, params string[] secrets) =>
        StripeWebhookSignature.Verify(Encoding.UTF8.GetBytes(payload), header, secrets.Length == 0 ? [Secret] : secrets, Tolerance, now);

    [Theory]
    [InlineData("whsec_test_secret", 1700000000L, "{\"id\":\"evt_test_1\",\"object\":\"event\",\"type\":\"checkout.session.completed\"}", "t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08")]
    [InlineData("whsec_5f1a2b3c4d5e6f708192a3b4c5d6e7f8", 1767225600L, "{\n  \"id\": \"evt_test_2\",\n  \"object\": \"event\",\n  \"type\": \"invoice.paid\"\n}", "t=1767225600,v1=6a85302012f19bd3ee9a4af4b2048b92d51c6f13384e6ed1dadc7d38bd2ec526")]
    [InlineData("whsec_unicode", 1800000000L, "{\"id\":\"evt_test_3\",\"object\":\"event\",\"data\":{\"object\":{\"name\":\"Zoë\"}}}", "t=1800000000,v1=d90a4955203e5511479d5159f4a82e4ee036105b50e6029897ab2382e501f877")]
    public void CreateHeader_MatchesStripesTestVectors(string secret, long timestamp, string payload, string expected)
    {
        StripeWebhookSignature.CreateHeader(Encoding.UTF8.GetBytes(payload), secret, DateTimeOffset.FromUnixTimeSeconds(timestamp)).Should().Be(expected);
        StripeWebhookSignature.Verify(Encoding.UTF8.GetBytes(payload), expected, [secret], Tolerance, DateTimeOffset.FromUnixTimeSeconds(timestamp + 10)).Should().Be(WebhookSignatureStatus.Valid);
    }

    [Theory]
    [InlineData("")]
    [InlineData(null)]
    public void Verify_WithAnEmptySecret_RefusesToCheck_SinceAnyoneCanSignWithAnEmptyKey(string? secret)
    {
        // What an app calling Verify with config["…"] ?? "" would pass when the secret is not configured: the header is
        // an HMAC under the empty key, which anyone can compute.
        var forged = System.Security.Cryptography.HMACSHA256.HashData(Array.Empty<byte>(), Encoding.UTF8.GetBytes("1700000000." + Payload));
        var header = "t=1700000000,v1=" + Convert.ToHexStringLower(forged);

        var act = () => StripeWebhookSignature.Verify(Encoding.UTF8.GetBytes(Payload), header, [Secret, secret!], Tolerance, SignedAt);

        act.Should().Throw<ArgumentException>().WithParameterName("secrets").WithMessage("*secret 1 is empty*");
    }

    [Fact]
    public void Verify_TenSecondsLater_IsValid() => Verify(Payload, Vector1, SignedAt.AddSeconds(10)).Should().Be(WebhookSignatureStatus.Valid);

    [Fact]
    public void Verify_301SecondsLater_IsOutsideTolerance() => Verify(Payload, Vector1, SignedAt.AddSeconds(301)).Should().Be(WebhookSignatureStatus.TimestampOutsideTolerance);

    [Fact]
    public void Verify_301SecondsEarlier_IsOutsideTolerance() => Verify(Payload, Vector1, SignedAt.AddSeconds(-301)).Should().Be(WebhookSignatureStatus.TimestampOutsideTolerance);

    [Fact]
    public void Verify_ZeroTolerance_TurnsTheAgeCheckOff() =>
        StripeWebhookSignature.Verify(Encoding.UTF8.GetBytes(Payload), Vector1, [Secret], TimeSpan.Zero, SignedAt.AddDays(30)).Should().Be(WebhookSignatureStatus.Valid);

    [Theory]
    [InlineData(null, WebhookSignatureStatus.HeaderMissing)]
    [InlineData("", WebhookSignatureStatus.HeaderMissing)]
    [InlineData("garbage", WebhookSignatureStatus.HeaderMalformed)]
    [InlineData("v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.HeaderMalformed)]
    [InlineData("t=soon,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.HeaderMalformed)]
    [InlineData("t=1700000000", WebhookSignatureStatus.NoV1Signature)]
    [InlineData("t=1700000000,v0=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.NoV1Signature)]
    [InlineData("t=1700000000,v1=0000000000000000000000000000000000000000000000000000000000000000", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=CA796B857B81E24D595A4C37ABF88D2FAFB533A32EDE6CE4CFC9B0E892A35B08", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b0g", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b0", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b080", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=Ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000,v1=, v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.NoMatchingSignature)]
    [InlineData("t=1700000000, v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.NoV1Signature)]
    [InlineData("t=1700000001,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08", WebhookSignatureStatus.NoMatchingSignature)]
    public void Verify_BadHeaders_GiveADistinctReason(string? header, WebhookSignatureStatus expected) =>
        Verify(Payload, header, SignedAt).Should().Be(expected);

    [Theory]
    [InlineData("t=1700000000,v1=zz796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08")]
    [InlineData("t=1700000000,v1=CA796B857B81E24D595A4C37ABF88D2FAFB533A32EDE6CE4CFC9B0E892A35B08,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08")]
    [InlineData("t=1700000000,v1=ca796b857b81e24d595a4c37abf88d2fafb533a32ede6ce4cfc9b0e892a35b08,v1=short")]
    public void Verify_RightSignatureBesideMalformedCandidates_IsValid(string header) =>
        Verify(Payload, header, SignedAt).Should().Be(WebhookSignatureStatus.Valid);

    [Fact]
    public void Verify_TamperedBody_DoesNotMatch() =>
        Verify(Payload.Replace("evt_test_1", "evt_test_9", StringComparison.Ordinal), Vector1, SignedAt).Should().Be(WebhookSignatureStatus.NoMatchingSignature);

    [Fact]
    public void Verify_ReserializedBody_DoesNotMatch() =>
        Verify(Payload.Replace(",", ", ", StringComparison.Ordinal), Vector1, SignedAt).Should().Be(WebhookSignatureStatus.NoMatchingSignature);

    [Fact]
    public void Verify_WrongSecret_DoesNotMatch() =>
        Verify(Payload, Vector1, SignedAt, "whsec_other").Should().Be(WebhookSignatureStatus.NoMatchingSignature);

    [Fact]
    public void Verify_DuringRotation_AcceptsEitherSecretAndIgnoresV0()
    {
        var body = Encoding.UTF8.GetBytes(Payload);
        var signatureA = StripeWebhookSignature.CreateHeader(body, "whsec_old", SignedAt).Split(",v1=")[1];
        var signatureB = StripeWebhookSignature.CreateHeader(body, "whsec_new", SignedAt).Split(",v1=")[1];
        var header = $"t=1700000000,v1={signatureA},v1={signatureB},v0=junk";

        Verify(Payload, header, SignedAt, "whsec_old").Should().Be(WebhookSignatureStatus.Valid);
        Verify(Payload, header, SignedAt, "whsec_new").Should().Be(WebhookSignatureStatus.Valid);
        Verify(Payload, header, SignedAt, "whsec_other", "whsec_new").Should().Be(WebhookSignatureStatus.Valid);
        Verify(Payload, header, SignedAt, "whsec_other").Should().Be(WebhookSignatureStatus.NoMatchingSignature);
    }

    [Fact]
    public async Task ReusedKeyStates_GiveStripesSignatures_OnEveryThread_AfterFailuresToo()
    {
        using var rotatedOut = new WebhookSigningKey(Encoding.UTF8.GetBytes("whsec_old"), reuseState: true);
        using var current = new WebhookSigningKey(Encoding.UTF8.GetBytes(Secret), reuseState: true);
        WebhookSigningKey[] keys = [rotatedOut, current];
        var payload = Encoding.UTF8.GetBytes("{\"padding\":\"" + new string('x', 256 * 1024) + "\"}"); // long enough for threads to overlap
        var header = StripeWebhookSignature.CreateHeader(payload, Secret, SignedAt);
        var tampered = (byte[])payload.Clone();
        tampered[100] = (byte)'y';
        using var start = new Barrier(4);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                return Enumerable.Range(0, 60).Select(i => i % 3 == 0
                    ? StripeWebhookSignature.Verify(tampered, header, keys, Tolerance, SignedAt) == WebhookSignatureStatus.NoMatchingSignature
                    : StripeWebhookSignature.Verify(payload, header, keys, Tolerance, SignedAt) == WebhookSignatureStatus.Valid).All(ok => ok);
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        outcomes.Should().AllSatisfy(ok => ok.Should().BeTrue());
    }
}
