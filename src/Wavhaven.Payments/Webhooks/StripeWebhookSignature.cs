using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Wavhaven.Payments.Webhooks;

/// <summary>The outcome of checking a <c>Stripe-Signature</c> header.</summary>
public enum WebhookSignatureStatus
{
    /// <summary>A <c>v1</c> signature matches one of the secrets and the timestamp is within tolerance.</summary>
    Valid,

    /// <summary>There is no <c>Stripe-Signature</c> header.</summary>
    HeaderMissing,

    /// <summary>The header has no timestamp (<c>t=</c>), or it is not a number.</summary>
    HeaderMalformed,

    /// <summary>The header has no <c>v1=</c> signature (other schemes are ignored).</summary>
    NoV1Signature,

    /// <summary>The timestamp is further from now than the tolerance, in the past or in the future.</summary>
    TimestampOutsideTolerance,

    /// <summary>No <c>v1</c> signature matches any of the secrets: a wrong secret, or a changed body.</summary>
    NoMatchingSignature,
}

/// <summary>
/// Stripe's webhook signature scheme: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=…]</c>, where each
/// <c>v1</c> is the lowercase hex HMAC-SHA256 of <c>{t}.{raw body}</c> keyed with the whole secret
/// (<c>whsec_…</c>) in UTF-8.
/// </summary>
public static class StripeWebhookSignature
{
    /// <summary>The name of the header Stripe signs webhooks with.</summary>
    public const string HeaderName = "Stripe-Signature";

    private const int SignatureHexLength = 64;

    /// <summary>
    /// Checks a webhook's signature over its raw body. The header is split on <c>,</c> then <c>=</c> with no
    /// trimming, as Stripe's clients do; any <c>v1</c> may match any secret (rotation); signatures are
    /// compared in constant time. The timestamp must be within <paramref name="tolerance"/> of
    /// <paramref name="now"/> either way (<see cref="TimeSpan.Zero"/> turns the age check off).
    /// </summary>
    /// <param name="payload">The request body exactly as received.</param>
    /// <param name="header">The <c>Stripe-Signature</c> header.</param>
    /// <param name="secrets">The endpoint's signing secrets.</param>
    /// <param name="tolerance">How far the timestamp may be from now.</param>
    /// <param name="now">The current time.</param>
    public static WebhookSignatureStatus Verify(ReadOnlySpan<byte> payload, string? header, IReadOnlyList<string> secrets, TimeSpan tolerance, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var keys = new byte[secrets.Count][];
        for (var i = 0; i < secrets.Count; i++)
        {
            keys[i] = Encoding.UTF8.GetBytes(secrets[i]);
        }

        return Verify(payload, header, keys, tolerance, now);
    }

    /// <summary>Builds a <c>Stripe-Signature</c> header for a payload, as Stripe would send it (for tests and emulators).</summary>
    /// <param name="payload">The exact body that will be sent.</param>
    /// <param name="secret">The endpoint's signing secret.</param>
    /// <param name="timestamp">The signing time.</param>
    public static string CreateHeader(ReadOnlySpan<byte> payload, string secret, DateTimeOffset timestamp)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        var unix = timestamp.ToUnixTimeSeconds();
        Span<byte> hash = stackalloc byte[32];
        ComputeSignature(payload, Encoding.UTF8.GetBytes(secret), unix, hash);
        return "t=" + unix.ToString(CultureInfo.InvariantCulture) + ",v1=" + Convert.ToHexStringLower(hash);
    }

    /// <summary>Checks a signature with secrets already encoded as UTF-8 keys.</summary>
    internal static WebhookSignatureStatus Verify(ReadOnlySpan<byte> payload, string? header, byte[][] keys, TimeSpan tolerance, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header))
        {
            return WebhookSignatureStatus.HeaderMissing;
        }

        long? timestamp = null;
        var signatureCount = 0;
        foreach (var range in header.AsSpan().Split(','))
        {
            var part = header.AsSpan(range);
            var equals = part.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var name = part[..equals];
            var value = part[(equals + 1)..];
            if (name.SequenceEqual("t"))
            {
                if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
                {
                    return WebhookSignatureStatus.HeaderMalformed;
                }

                timestamp = parsed;
            }
            else if (name.SequenceEqual("v1"))
            {
                signatureCount++;
            }
        }

        if (timestamp is null)
        {
            return WebhookSignatureStatus.HeaderMalformed;
        }

        if (signatureCount == 0)
        {
            return WebhookSignatureStatus.NoV1Signature;
        }

        if (!AnySignatureMatches(payload, header, keys, timestamp.Value))
        {
            return WebhookSignatureStatus.NoMatchingSignature;
        }

        if (tolerance > TimeSpan.Zero && Math.Abs(now.ToUnixTimeSeconds() - timestamp.Value) > (long)tolerance.TotalSeconds)
        {
            return WebhookSignatureStatus.TimestampOutsideTolerance;
        }

        return WebhookSignatureStatus.Valid;
    }

    private static bool AnySignatureMatches(ReadOnlySpan<byte> payload, string header, byte[][] keys, long timestamp)
    {
        Span<byte> hash = stackalloc byte[32];
        Span<char> expected = stackalloc char[SignatureHexLength];
        var matched = false;
        foreach (var key in keys)
        {
            ComputeSignature(payload, key, timestamp, hash);
            Convert.TryToHexStringLower(hash, expected, out _);
            var expectedBytes = MemoryMarshal.AsBytes(expected);
            foreach (var range in header.AsSpan().Split(','))
            {
                var part = header.AsSpan(range);
                if (part.Length == 3 + SignatureHexLength && part.StartsWith("v1="))
                {
                    // Every candidate is compared in full, in constant time, whatever matched before.
                    matched |= CryptographicOperations.FixedTimeEquals(MemoryMarshal.AsBytes(part[3..]), expectedBytes);
                }
            }
        }

        return matched;
    }

    /// <summary>HMAC-SHA256 of <c>{timestamp}.{payload}</c>, hashed from a pooled buffer.</summary>
    private static void ComputeSignature(ReadOnlySpan<byte> payload, byte[] key, long timestamp, Span<byte> destination)
    {
        Span<byte> prefix = stackalloc byte[21];
        Utf8Formatter.TryFormat(timestamp, prefix, out var written);
        prefix[written++] = (byte)'.';
        var length = written + payload.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            prefix[..written].CopyTo(buffer);
            payload.CopyTo(buffer.AsSpan(written));
            HMACSHA256.HashData(key, buffer.AsSpan(0, length), destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
