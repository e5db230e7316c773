using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Wavhaven.Payments.Stripe.Serialization;

/// <summary>
/// Finds where a JSON object or array ends without tokenizing what is inside it: 64 bytes at a time (one 64-byte load
/// where AVX-512 is there, two with AVX2, four with SSE or Arm's 128-bit vectors), it marks the quotes that are not
/// escaped, the bytes inside strings, and the brackets outside them, and counts depth only on those brackets.
/// </summary>
/// <remarks>
/// It checks nothing but the nesting of brackets outside strings, and does not tell <c>{</c> from <c>[</c>: callers
/// hand the bracket it finds to <see cref="System.Text.Json.Utf8JsonReader"/>, which checks that it closes the right
/// container, and whatever was skipped is validated when it is read. It is meant for bodies whose signature was
/// verified first.
/// </remarks>
internal static class JsonBracketScanner
{
    /// <summary>How many bytes one step classifies: one bit each in a <see cref="ulong"/>.</summary>
    internal const int BlockSize = 64;

    /// <summary>
    /// Returns the index in <paramref name="json"/> of the bracket at which the nesting depth, starting at
    /// <paramref name="depth"/> at <paramref name="from"/> (a position outside any string), drops to zero; or -1 when
    /// it never does.
    /// </summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="from">Where to start: the opening bracket of a value to skip (with <paramref name="depth"/> 0), or a
    /// position between tokens inside containers (with <paramref name="depth"/> the number of them to leave).</param>
    /// <param name="depth">How many containers are open at <paramref name="from"/>.</param>
    public static int FindClose(ReadOnlySpan<byte> json, int from, int depth)
    {
        var keys = new ObjectKeys([]);
        return Scan(json, from, depth, ref keys);
    }

    /// <summary>
    /// Returns the index of the bracket that closes the object opening at <paramref name="start"/> (or -1), and
    /// collects the positions of the colons of its own properties (not those of nested values) into
    /// <paramref name="keys"/>.
    /// </summary>
    public static int ScanObject(ReadOnlySpan<byte> json, int start, ref ObjectKeys keys) => Scan(json, start, 0, ref keys);

    private static int Scan(ReadOnlySpan<byte> json, int from, int depth, ref ObjectKeys keys)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)from, (uint)json.Length, nameof(from));
        var collect = !keys.Colons.IsEmpty;
        Span<byte> last = stackalloc byte[BlockSize];
        ulong inString = 0; // all ones when a string is open across the block boundary
        var escapeCarry = false;
        for (var at = from; at < json.Length; at += BlockSize)
        {
            scoped ReadOnlySpan<byte> block;
            if (json.Length - at >= BlockSize)
            {
                block = json.Slice(at, BlockSize);
            }
            else
            {
                last.Fill((byte)' ');
                json[at..].CopyTo(last);
                block = last;
            }

            Classify(block, out var quotes, out var backslashes, out var opens, out var closes, out var colons);
            if ((backslashes | (escapeCarry ? 1u : 0u)) != 0)
            {
                keys.SawBackslash = true;
                quotes &= ~Escaped(backslashes, ref escapeCarry);
            }

            var strings = PrefixXor(quotes) ^ inString;
            inString = (ulong)((long)strings >> 63);
            opens &= ~strings;
            closes &= ~strings;
            colons = collect ? colons & ~strings : 0;
            if ((opens | closes) == 0)
            {
                if (depth == 1 && colons != 0)
                {
                    keys.AddAll(at, colons);
                }

                continue;
            }

            var closeCount = BitOperations.PopCount(closes);
            if (depth > closeCount + (colons != 0 ? 1 : 0))
            {
                depth += BitOperations.PopCount(opens) - closeCount;
                continue;
            }

            for (var marks = opens | closes | colons; marks != 0; marks &= marks - 1)
            {
                var bit = BitOperations.TrailingZeroCount(marks);
                var mask = 1ul << bit;
                if ((opens & mask) != 0)
                {
                    depth++;
                }
                else if ((closes & mask) != 0)
                {
                    if (--depth == 0)
                    {
                        return at + bit;
                    }
                }
                else if (depth == 1)
                {
                    keys.Add(at + bit);
                }
            }
        }

        return -1;
    }

    /// <summary>One bit per byte of the 64-byte block: quotes, backslashes, <c>{</c> or <c>[</c>, <c>}</c> or <c>]</c>, colons.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify(ReadOnlySpan<byte> block, out ulong quotes, out ulong backslashes, out ulong opens, out ulong closes, out ulong colons)
    {
        Debug.Assert(block.Length >= BlockSize, "A block is 64 bytes: the tail is padded first.");
        if (Vector512.IsHardwareAccelerated)
        {
            Classify512(block, out quotes, out backslashes, out opens, out closes, out colons);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Classify256(block, out quotes, out backslashes, out opens, out closes, out colons);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Classify128(block, out quotes, out backslashes, out opens, out closes, out colons);
        }
        else
        {
            ClassifyScalar(block, out quotes, out backslashes, out opens, out closes, out colons);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify512(ReadOnlySpan<byte> block, out ulong quotes, out ulong backslashes, out ulong opens, out ulong closes, out ulong colons)
    {
        var bytes = Vector512.LoadUnsafe(ref MemoryMarshal.GetReference(block));
        var folded = bytes | Vector512.Create((byte)0x20); // '[' | 0x20 == '{', ']' | 0x20 == '}'
        quotes = Vector512.Equals(bytes, Vector512.Create((byte)'"')).ExtractMostSignificantBits();
        backslashes = Vector512.Equals(bytes, Vector512.Create((byte)'\\')).ExtractMostSignificantBits();
        opens = Vector512.Equals(folded, Vector512.Create((byte)'{')).ExtractMostSignificantBits();
        closes = Vector512.Equals(folded, Vector512.Create((byte)'}')).ExtractMostSignificantBits();
        colons = Vector512.Equals(bytes, Vector512.Create((byte)':')).ExtractMostSignificantBits();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify256(ReadOnlySpan<byte> block, out ulong quotes, out ulong backslashes, out ulong opens, out ulong closes, out ulong colons)
    {
        ref var start = ref MemoryMarshal.GetReference(block);
        var low = Vector256.LoadUnsafe(ref start);
        var high = Vector256.LoadUnsafe(ref start, 32);
        quotes = Mask256(low, high, (byte)'"', fold: false);
        backslashes = Mask256(low, high, (byte)'\\', fold: false);
        opens = Mask256(low, high, (byte)'{', fold: true);
        closes = Mask256(low, high, (byte)'}', fold: true);
        colons = Mask256(low, high, (byte)':', fold: false);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Classify128(ReadOnlySpan<byte> block, out ulong quotes, out ulong backslashes, out ulong opens, out ulong closes, out ulong colons)
    {
        ref var start = ref MemoryMarshal.GetReference(block);
        quotes = backslashes = opens = closes = colons = 0;
        for (var i = 0; i < BlockSize / 16; i++)
        {
            var bytes = Vector128.LoadUnsafe(ref start, (nuint)(16 * i));
            var folded = bytes | Vector128.Create((byte)0x20);
            var shift = 16 * i;
            quotes |= (ulong)Vector128.Equals(bytes, Vector128.Create((byte)'"')).ExtractMostSignificantBits() << shift;
            backslashes |= (ulong)Vector128.Equals(bytes, Vector128.Create((byte)'\\')).ExtractMostSignificantBits() << shift;
            opens |= (ulong)Vector128.Equals(folded, Vector128.Create((byte)'{')).ExtractMostSignificantBits() << shift;
            closes |= (ulong)Vector128.Equals(folded, Vector128.Create((byte)'}')).ExtractMostSignificantBits() << shift;
            colons |= (ulong)Vector128.Equals(bytes, Vector128.Create((byte)':')).ExtractMostSignificantBits() << shift;
        }
    }

    private static ulong Mask256(Vector256<byte> low, Vector256<byte> high, byte value, bool fold)
    {
        var target = Vector256.Create(value);
        var foldBits = Vector256.Create(fold ? (byte)0x20 : (byte)0);
        return Vector256.Equals(low | foldBits, target).ExtractMostSignificantBits()
            | ((ulong)Vector256.Equals(high | foldBits, target).ExtractMostSignificantBits() << 32);
    }

    /// <summary>The same classification a byte at a time, for hardware without vectors (and for tests).</summary>
    internal static void ClassifyScalar(ReadOnlySpan<byte> block, out ulong quotes, out ulong backslashes, out ulong opens, out ulong closes, out ulong colons)
    {
        quotes = backslashes = opens = closes = colons = 0;
        for (var i = 0; i < BlockSize; i++)
        {
            var bit = 1ul << i;
            switch (block[i])
            {
                case (byte)'"': quotes |= bit; break;
                case (byte)'\\': backslashes |= bit; break;
                case (byte)'{' or (byte)'[': opens |= bit; break;
                case (byte)'}' or (byte)']': closes |= bit; break;
                case (byte)':': colons |= bit; break;
            }
        }
    }

    /// <summary>The bytes escaped by a backslash: each one right after an odd run of backslashes.</summary>
    private static ulong Escaped(ulong backslashes, ref bool carry)
    {
        ulong escaped = 0;
        var pending = carry;
        for (var i = 0; i < BlockSize; i++)
        {
            var bit = 1ul << i;
            if (pending)
            {
                escaped |= bit;
                pending = false;
            }
            else if ((backslashes & bit) != 0)
            {
                pending = true;
            }
        }

        carry = pending;
        return escaped;
    }

    /// <summary>Bit i is the parity of the quotes at or before i: set from an opening quote up to its closing one.</summary>
    /// <remarks>A carry-less multiplication by all ones is exactly that, in one instruction where there is one.</remarks>
    internal static ulong PrefixXor(ulong bits) => Pclmulqdq.IsSupported
        ? Pclmulqdq.CarrylessMultiply(Vector128.CreateScalar(bits), Vector128.Create(ulong.MaxValue), 0).ToScalar()
        : PrefixXorByShifts(bits);

    /// <summary><see cref="PrefixXor"/> without a carry-less multiplication (on Arm, say).</summary>
    internal static ulong PrefixXorByShifts(ulong bits)
    {
        bits ^= bits << 1;
        bits ^= bits << 2;
        bits ^= bits << 4;
        bits ^= bits << 8;
        bits ^= bits << 16;
        bits ^= bits << 32;
        return bits;
    }
}

/// <summary>Where the properties of one object have their colons, as <see cref="JsonBracketScanner.ScanObject"/> finds them.</summary>
/// <param name="colons">Room for the positions; past it, <see cref="Overflowed"/> is set and no more are kept.</param>
internal ref struct ObjectKeys(Span<int> colons)
{
    /// <summary>Gets the room for the positions.</summary>
    public readonly Span<int> Colons = colons;

    /// <summary>Gets how many positions were kept.</summary>
    public int Count { get; private set; }

    /// <summary>Gets whether there were more properties than room.</summary>
    public bool Overflowed { get; private set; }

    /// <summary>Gets or sets whether the scanned text had a backslash (an escape) anywhere.</summary>
    public bool SawBackslash { get; set; }

    public void Add(int position)
    {
        if (Count < Colons.Length)
        {
            Colons[Count++] = position;
        }
        else
        {
            Overflowed = true;
        }
    }

    public void AddAll(int blockStart, ulong colons)
    {
        for (; colons != 0; colons &= colons - 1)
        {
            Add(blockStart + BitOperations.TrailingZeroCount(colons));
        }
    }
}
