using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The two floors the webhook benchmarks are read against, both over the very bytes Stripe signs (<c>{t}.{body}</c>,
/// already laid out in one buffer): the one-shot <see cref="HMACSHA256.HashData(byte[], byte[])"/> (the baseline), and
/// a stricter one that keeps the keyed state across calls, as the library keeps one per thread.
/// </summary>
public abstract class HmacFloorBenchmarks
{
    private readonly byte[] _hash = new byte[32];
    private byte[] _signedBytes = [];
    private IncrementalHash? _reusedHmac;

    /// <summary>Gets the signing secret's key bytes.</summary>
    protected byte[] Key { get; } = Encoding.UTF8.GetBytes(Payloads.Secret);

    /// <summary>The floor: the HMAC that no verification can skip.</summary>
    [Benchmark(Baseline = true, Description = "HMACSHA256.HashData({t}.{body}) (floor)")]
    public byte[] HmacFloor()
    {
        HMACSHA256.HashData(Key, _signedBytes, _hash);
        return _hash;
    }

    /// <summary>
    /// A stricter floor: the same HMAC from a keyed state kept across calls. The one-shot floor also derives the key's
    /// pads and sets up its native context each time.
    /// </summary>
    [Benchmark(Description = "IncrementalHash HMAC, keyed state reused (stricter floor)")]
    public byte[] HmacReusedState()
    {
        _reusedHmac!.AppendData(_signedBytes);
        _reusedHmac.GetHashAndReset(_hash);
        return _hash;
    }

    /// <summary>Lays out the signed bytes of <paramref name="body"/> at <paramref name="signedAt"/> for both floors.</summary>
    protected void SetUpFloors(byte[] body, DateTimeOffset signedAt)
    {
        _signedBytes = Payloads.Signed(body, signedAt);
        _reusedHmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, Key);
    }

    /// <summary>Releases the stricter floor's state.</summary>
    protected void CleanUpFloors() => _reusedHmac?.Dispose();
}
