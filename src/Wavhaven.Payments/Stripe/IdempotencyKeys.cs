using System.Security.Cryptography;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// New idempotency keys: a prefix and 128 random bits as 32 lowercase hex digits, from the operating system's
/// cryptographic generator, like <see cref="Guid.NewGuid"/>.
/// </summary>
/// <remarks>
/// On Linux each call to that generator is a system call (1.5 µs for <see cref="Guid.NewGuid"/> on the benchmark
/// machine, about a tenth of the library's own work per checkout), so each thread draws 32 keys' worth of bytes at a
/// time and hands them out in turn, never twice.
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
        var random = t_random ??= new byte[KeyBytes * KeysPerDraw];
        if (t_next == 0)
        {
            RandomNumberGenerator.Fill(random);
        }

        var bits = random.AsSpan(t_next, KeyBytes);
        var key = string.Concat(prefix, Convert.ToHexStringLower(bits));
        bits.Clear();
        t_next = (t_next + KeyBytes) % random.Length;
        return key;
    }
}
