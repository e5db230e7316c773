using System.Security.Cryptography;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// New idempotency keys: a prefix and 128 random bits from <see cref="RandomNumberGenerator"/> as 32 lowercase hex
/// digits (the length of a <see cref="Guid"/> in its <c>N</c> format).
/// </summary>
/// <remarks>
/// A key each from <see cref="Guid.NewGuid"/> cost a read of <c>/dev/urandom</c> on Linux (1.5 µs on the benchmark
/// machine, and the system call cooled the caller's caches); <see cref="RandomNumberGenerator"/> makes no system call
/// but costs about 2 µs per call of any small size. So each thread draws 32 keys' worth of bytes at a time (about
/// 70 ns a key) and hands them out in turn, each once, clearing it.
/// </remarks>
internal static class IdempotencyKeys
{
    private const int KeyBytes = 16;

    private const int KeysPerDraw = 32;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_next;

    /// <summary>A new key: <paramref name="prefix"/> followed by 32 lowercase hex digits.</summary>
    public static string New(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var random = t_random ??= new byte[KeyBytes * KeysPerDraw];
        if (t_next == 0)
        {
            RandomNumberGenerator.Fill(random);
        }

        var bits = random.AsSpan(t_next, KeyBytes);
        Span<char> hex = stackalloc char[KeyBytes * 2];
        Convert.TryToHexStringLower(bits, hex, out _);
        bits.Clear();
        t_next = (t_next + KeyBytes) % random.Length;
        return string.Concat(prefix, hex);
    }
}
