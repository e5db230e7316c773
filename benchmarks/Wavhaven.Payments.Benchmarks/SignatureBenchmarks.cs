using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// Checking a <c>Stripe-Signature</c> over a 3.4 KB <c>checkout.session.completed</c> body, against the floor: one
/// HMAC-SHA256 of the very bytes Stripe signs (<c>{t}.{body}</c>, already laid out in one buffer).
/// </summary>
public class SignatureBenchmarks
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private readonly byte[] _hash = new byte[32];
    private byte[] _payload = [];
    private byte[] _signedBytes = [];
    private byte[] _key = [];
    private IncrementalHash? _reusedHmac;
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
        _signedBytes = [.. Encoding.UTF8.GetBytes(_now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + "."), .. _payload];
        _key = Encoding.UTF8.GetBytes(Payloads.Secret);
        _reusedHmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
        _keys = [new WebhookSigningKey(_key, reuseState: true)];
        _secrets = [Payloads.Secret];
        if (Verify() != WebhookSignatureStatus.Valid || VerifyWithStringSecrets() != WebhookSignatureStatus.Valid)
        {
            throw new InvalidOperationException("The benchmark's signature does not verify.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reusedHmac?.Dispose();
        foreach (var key in _keys)
        {
            key.Dispose();
        }
    }

    /// <summary>The floor: the HMAC that no verification can skip.</summary>
    [Benchmark(Baseline = true, Description = "HMACSHA256.HashData({t}.{body}) (floor)")]
    public byte[] HmacFloor()
    {
        HMACSHA256.HashData(_key, _signedBytes, _hash);
        return _hash;
    }

    /// <summary>
    /// A stricter floor: the same HMAC from a keyed state kept across calls, as the library keeps one per thread. The
    /// one-shot floor also derives the key's pads and sets up its native context each time.
    /// </summary>
    [Benchmark(Description = "IncrementalHash HMAC, keyed state reused (stricter floor)")]
    public byte[] HmacReusedState()
    {
        _reusedHmac!.AppendData(_signedBytes);
        _reusedHmac.GetHashAndReset(_hash);
        return _hash;
    }

    /// <summary>What the webhook processor calls: secrets encoded once, at start-up.</summary>
    [Benchmark(Description = "Verify (processor's path)")]
    public WebhookSignatureStatus Verify() => StripeWebhookSignature.Verify(_payload, _header, _keys, Tolerance, _now);

    /// <summary>The public overload, for hosts that verify by themselves: it encodes the secrets on each call.</summary>
    [Benchmark(Description = "Verify (public, string secrets)")]
    public WebhookSignatureStatus VerifyWithStringSecrets() => StripeWebhookSignature.Verify(_payload, _header, _secrets, Tolerance, _now);
}
