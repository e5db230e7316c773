using System.Text;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Benchmarks;

/// <summary>
/// The event every benchmark sends: <c>benchmarks/payloads/checkout.session.completed.json</c>, a paid guest checkout
/// built from Stripe's example objects, whose event id and session id end in 12 placeholder digits.
/// </summary>
internal static class Payloads
{
    public const string Secret = "whsec_benchmark_endpoint_secret";

    private static readonly byte[] Template = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "payloads", "checkout.session.completed.json"));

    private static readonly int EventIdDigits = DigitsAfter("\"id\":\"evt_test_bench_"u8);

    private static readonly int SessionIdDigits = DigitsAfter("\"id\":\"cs_test_bench_"u8);

    public static int Size => Template.Length;

    /// <summary>The event with id <c>evt_test_bench_{n:D12}</c> for session <c>cs_test_bench_{n:D12}</c>: one new event, one new purchase.</summary>
    public static byte[] CheckoutCompleted(long n)
    {
        var body = (byte[])Template.Clone();
        Restamp(body, n);
        return body;
    }

    /// <summary>Turns a body made by <see cref="CheckoutCompleted"/> into event <c>n</c>'s, in place (no allocation).</summary>
    public static void Restamp(byte[] body, long n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 999_999_999_999);
        for (var i = 11; i >= 0; i--, n /= 10)
        {
            body[EventIdDigits + i] = body[SessionIdDigits + i] = (byte)('0' + (n % 10));
        }
    }

    /// <summary>The bytes Stripe signs for <paramref name="body"/> sent at <paramref name="signedAt"/>: <c>{t}.{body}</c> in one buffer.</summary>
    public static byte[] Signed(byte[] body, DateTimeOffset signedAt) =>
        [.. Encoding.UTF8.GetBytes(signedAt.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) + "."), .. body];

    /// <summary>Signs each of <paramref name="bodies"/> at <paramref name="signedAt"/> into the same place of <paramref name="headers"/>.</summary>
    public static void Sign(byte[][] bodies, string[] headers, DateTimeOffset signedAt)
    {
        for (var i = 0; i < bodies.Length; i++)
        {
            headers[i] = StripeWebhookSignature.CreateHeader(bodies[i], Secret, signedAt);
        }
    }

    private static int DigitsAfter(ReadOnlySpan<byte> prefix)
    {
        var at = Template.AsSpan().IndexOf(prefix);
        if (at < 0 || Template.AsSpan().Slice(at + prefix.Length, 12).IndexOfAnyExcept((byte)'0') >= 0)
        {
            throw new InvalidOperationException("The payload template lacks its placeholder id " + Encoding.ASCII.GetString(prefix) + "000000000000.");
        }

        return at + prefix.Length;
    }
}
