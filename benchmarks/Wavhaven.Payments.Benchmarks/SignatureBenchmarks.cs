using BenchmarkDotNet.Attributes;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// Checking a <c>Stripe-Signature</c> over a 3.4 KB <c>checkout.session.completed</c> body, against the floor: one
/// HMAC-SHA256 of the very bytes Stripe signs (<c>{t}.{body}</c>, already laid out in one buffer).
/// </summary>
public class SignatureBenchmarks : HmacFloorBenchmarks
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private byte[] _payload = [];
    private WebhookSigningKey[] _keys = [];
    private string[] _secrets = [];
    private string _header = string.Empty;
    private DateTimeOffset _now;

    [GlobalSetup]
    public void Setup()
    {
        _payload = Payloads.CheckoutCompleted(1);
        _now = DateTimeOffset.UtcNow;
        _header = StripeWebhookSignature.CreateHeader(_payload, Payloads.Secret, _now);
        SetUpFloors(_payload, _now);
        _keys = [new WebhookSigningKey(Key, reuseState: true)];
        _secrets = [Payloads.Secret];
        if (Verify() != WebhookSignatureStatus.Valid || VerifyWithStringSecrets() != WebhookSignatureStatus.Valid)
        {
            throw new InvalidOperationException("The benchmark's signature does not verify.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        CleanUpFloors();
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    /// <summary>What the webhook processor calls: secrets encoded once, at start-up.</summary>
    [Benchmark(Description = "Verify (processor's path)")]
    public WebhookSignatureStatus Verify() => StripeWebhookSignature.Verify(_payload, _header, _keys, Tolerance, _now);

    /// <summary>The public overload, for hosts that verify by themselves: it encodes the secrets on each call.</summary>
    [Benchmark(Description = "Verify (public, string secrets)")]
    public WebhookSignatureStatus VerifyWithStringSecrets() => StripeWebhookSignature.Verify(_payload, _header, _secrets, Tolerance, _now);
}
