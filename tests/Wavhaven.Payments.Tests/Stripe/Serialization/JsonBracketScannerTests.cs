using System.Runtime.Intrinsics;
using System.Text;
using System.Text.Json;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Tests.Stripe.Serialization;

/// <summary>
/// The scanner that skips nested values on the webhook path, checked against <see cref="Utf8JsonReader"/> on generated
/// JSON whose strings hold brackets, quotes, colons and runs of backslashes, placed across the 64-byte blocks it reads.
/// </summary>
public class JsonBracketScannerTests
{
    /// <summary>Each generated case is checked for these seeds; a failure names its seed.</summary>
    private static readonly int[] Seeds = [.. Enumerable.Range(1, 300)];

    [Fact]
    public void FindClose_FindsTheBracketTheReaderEndsTheValueAt()
    {
        foreach (var seed in Seeds)
        {
            var random = new Random(seed);
            var prefix = new string(' ', random.Next(0, 40));
            var json = Encoding.UTF8.GetBytes(prefix + RandomContainer(random, 0) + ", \"after\": {}");
            var start = prefix.Length;

            JsonBracketScanner.FindClose(json, start, depth: 0).Should().Be(ReaderEnd(json, start), "seed {0}", seed);
        }
    }

    [Fact]
    public void ScanObject_CollectsTheColonsOfItsOwnPropertiesOnly()
    {
        foreach (var seed in Seeds)
        {
            var random = new Random(seed);
            var json = Encoding.UTF8.GetBytes(RandomObject(random, 0));
            var keys = new ObjectKeys(new int[256]);

            var close = JsonBracketScanner.ScanObject(json, 0, ref keys);

            close.Should().Be(json.Length - 1, "seed {0}", seed);
            keys.Overflowed.Should().BeFalse();
            keys.Colons[..keys.Count].ToArray().Should().Equal(ReaderColons(json), "seed {0}", seed);
            keys.SawBackslash.Should().Be(json.Contains((byte)'\\'), "seed {0}", seed);
        }
    }

    [Fact]
    public void FindClose_FromInsideAnObject_FindsWhereThatObjectEnds()
    {
        var json = """{"a":{"b":"}"},"c":[1,{"d":"]"}],"e":"\\"}"""u8.ToArray();
        var afterFirstValue = Encoding.UTF8.GetString(json).IndexOf(",\"c\"", StringComparison.Ordinal);

        JsonBracketScanner.FindClose(json, afterFirstValue, depth: 1).Should().Be(json.Length - 1);
    }

    [Theory]
    [InlineData("""{"a":[1,2}""")]
    [InlineData("""{"a":"}""")]
    [InlineData("""{"a":"\"}""")]
    [InlineData("""[[]""")]
    public void Unclosed_ReturnsMinusOne(string json) =>
        JsonBracketScanner.FindClose(Encoding.UTF8.GetBytes(json), 0, depth: 0).Should().Be(-1);

    [Fact]
    public void MoreProperties_ThanRoom_Overflows()
    {
        var json = Encoding.UTF8.GetBytes("{" + string.Join(',', Enumerable.Range(0, 5).Select(i => $"\"k{i}\":{i}")) + "}");
        var keys = new ObjectKeys(new int[3]);

        JsonBracketScanner.ScanObject(json, 0, ref keys).Should().Be(json.Length - 1);

        keys.Overflowed.Should().BeTrue();
        keys.Count.Should().Be(3);
    }

    /// <summary>
    /// Each width is called directly, whatever this machine has (without the hardware, .NET emulates the wider
    /// vectors), and so is the dispatch the scanner uses. CI also runs these tests with AVX-512, and then all hardware
    /// intrinsics, switched off, so that the scanner's own dispatch takes every path end to end.
    /// </summary>
    [Theory]
    [InlineData("512")]
    [InlineData("256")]
    [InlineData("128")]
    [InlineData("dispatch")]
    public void VectorClassification_MatchesTheScalarOne(string width)
    {
        var alphabet = "\"\\{}[]:, ab"u8.ToArray();
        var block = new byte[JsonBracketScanner.BlockSize];
        foreach (var seed in Seeds)
        {
            var random = new Random(seed);
            for (var i = 0; i < block.Length; i++)
            {
                block[i] = random.Next(4) == 0 ? (byte)random.Next(256) : alphabet[random.Next(alphabet.Length)];
            }

            ulong quotes, backslashes, opens, closes, colons;
            switch (width)
            {
                case "512": JsonBracketScanner.Classify512(block, out quotes, out backslashes, out opens, out closes, out colons); break;
                case "256": JsonBracketScanner.Classify256(block, out quotes, out backslashes, out opens, out closes, out colons); break;
                case "128": JsonBracketScanner.Classify128(block, out quotes, out backslashes, out opens, out closes, out colons); break;
                default: JsonBracketScanner.Classify(block, out quotes, out backslashes, out opens, out closes, out colons); break;
            }

            JsonBracketScanner.ClassifyScalar(block, out var quotesScalar, out var backslashesScalar, out var opensScalar, out var closesScalar, out var colonsScalar);

            (quotes, backslashes, opens, closes, colons).Should().Be((quotesScalar, backslashesScalar, opensScalar, closesScalar, colonsScalar), "seed {0}", seed);
        }
    }

    /// <summary>
    /// CI runs these tests again with switches that take the wider vectors away (see <c>.ci/run</c>), and names the width
    /// that should be left: this checks that each switch took effect, so that those runs take the path they are for. (On
    /// .NET 10, <c>DOTNET_EnableAVX512F=0</c> no longer takes <see cref="Vector512"/> away; <c>DOTNET_EnableAVX512=0</c> does.)
    /// </summary>
    [SkippableFact]
    public void TheWidestAcceleratedVector_IsTheOneCIAskedFor()
    {
        var asked = Environment.GetEnvironmentVariable("WAVHAVEN_EXPECTED_VECTOR_WIDTH");
        Skip.If(asked is null, "set only by CI's runs with narrower vectors");

        var widest = Vector512.IsHardwareAccelerated ? "512" : Vector256.IsHardwareAccelerated ? "256" : Vector128.IsHardwareAccelerated ? "128" : "none";

        widest.Should().Be(asked);
    }

    [Fact]
    public void PrefixXor_IsTheParityOfTheBitsAtOrBeforeEachOne()
    {
        var random = new Random(7);
        for (var n = 0; n < 1000; n++)
        {
            var bits = (ulong)random.NextInt64() ^ ((ulong)random.Next(2) << 63);
            ulong expected = 0;
            var parity = 0ul;
            for (var i = 0; i < 64; i++)
            {
                parity ^= (bits >> i) & 1;
                expected |= parity << i;
            }

            JsonBracketScanner.PrefixXor(bits).Should().Be(expected, "bits {0:X16}", bits);
            JsonBracketScanner.PrefixXorByShifts(bits).Should().Be(expected, "bits {0:X16} by shifts", bits);
        }
    }

    /// <summary>Strings, escapes and brackets that straddle the 64-byte blocks at every offset.</summary>
    [Fact]
    public void ValuesAcrossBlockBoundaries_AtEveryOffset_AreSkippedAsTheReaderDoes()
    {
        const string value = """{"a":"x\\\"}]:","b":[{"c":"\\"},"]"],"d":{"e":"{\"}"}}""";
        for (var offset = 0; offset < 2 * JsonBracketScanner.BlockSize; offset++)
        {
            var json = Encoding.UTF8.GetBytes(new string(' ', offset) + value + ", 1");

            JsonBracketScanner.FindClose(json, offset, depth: 0).Should().Be(ReaderEnd(json, offset), "offset {0}", offset);
        }
    }

    /// <summary>More brackets in one 64-byte block than a 32-bit mask holds, around colons at depth 1.</summary>
    [Theory]
    [InlineData(40)]
    [InlineData(60)] // the reader the test compares with stops at a depth of 64
    public void DeepNesting_ManyBracketsInABlock_IsFollowedBracketByBracket(int depth)
    {
        var nested = new string('[', depth) + "{\"k\":1}" + new string(']', depth);
        var json = Encoding.UTF8.GetBytes("{\"a\":" + nested + ",\"b\":[" + nested + "],\"c\":{\"d\":" + nested + "}}");
        var keys = new ObjectKeys(new int[16]);

        JsonBracketScanner.ScanObject(json, 0, ref keys).Should().Be(json.Length - 1);
        keys.Colons[..keys.Count].ToArray().Should().Equal(ReaderColons(json));
        JsonBracketScanner.FindClose(json, 1 + nested.Length + 5, depth: 1).Should().Be(json.Length - 1, "from inside the object, after a");
        JsonBracketScanner.FindClose(json, 5, depth: 0).Should().Be(ReaderEnd(json, 5));
    }

    private static int ReaderEnd(byte[] json, int start)
    {
        var reader = new Utf8JsonReader(json.AsSpan(start), new JsonReaderOptions { AllowMultipleValues = true, AllowTrailingCommas = true });
        reader.Read();
        reader.Skip();
        return start + (int)reader.TokenStartIndex;
    }

    private static int[] ReaderColons(byte[] json)
    {
        var colons = new List<int>();
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            colons.Add(Array.LastIndexOf(json, (byte)':', (int)reader.BytesConsumed - 1)); // the reader consumes the colon with the name
            reader.Read();
            reader.Skip();
        }

        return [.. colons];
    }

    private static string RandomContainer(Random random, int depth) => random.Next(2) == 0 ? RandomObject(random, depth) : RandomArray(random, depth);

    private static string RandomObject(Random random, int depth)
    {
        var properties = Enumerable.Range(0, random.Next(0, 8)).Select(_ => RandomString(random) + Space(random) + ":" + Space(random) + RandomValue(random, depth + 1));
        return "{" + Space(random) + string.Join("," + Space(random), properties) + Space(random) + "}";
    }

    private static string RandomArray(Random random, int depth) =>
        "[" + string.Join(",", Enumerable.Range(0, random.Next(0, 6)).Select(_ => Space(random) + RandomValue(random, depth + 1))) + "]";

    private static string RandomValue(Random random, int depth) => random.Next(depth < 5 ? 7 : 4) switch
    {
        0 => RandomString(random),
        1 => random.Next(-1000, 1000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        2 => random.Next(2) == 0 ? "true" : "null",
        3 => RandomString(random),
        _ => RandomContainer(random, depth),
    };

    /// <summary>A JSON string whose content is drawn from brackets, quotes, colons, backslashes and letters, escaped as JSON requires.</summary>
    private static string RandomString(Random random)
    {
        var pieces = new[] { "{", "}", "[", "]", ":", ",", "\\\"", "\\\\", "\\\\\\\"", "a", "bc", "é", " ", "\\u0041", "\\n" };
        var text = new StringBuilder("\"");
        for (var i = random.Next(0, 12); i > 0; i--)
        {
            text.Append(pieces[random.Next(pieces.Length)]);
        }

        return text.Append('"').ToString();
    }

    private static string Space(Random random) => random.Next(4) switch
    {
        0 => " ",
        1 => "\n  ",
        _ => string.Empty,
    };
}
