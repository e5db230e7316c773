using System.Text.RegularExpressions;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>The encodings stripe-node produced for the same inputs (stripe-api-facts.md §2).</summary>
public class StripeFormTests
{
    [Fact]
    public void Encode_NestedMetadata_UsesBracketsAndPercentEscapes()
    {
        var sut = new StripeForm
        {
            ["email"] = "jane@example.com",
            ["name"] = "Jane Doe",
            ["metadata"] = new StripeForm { ["user_id"] = "42", ["plan"] = "pro" },
        };

        sut.Encode().Should().Be("email=jane%40example.com&name=Jane%20Doe&metadata[user_id]=42&metadata[plan]=pro");
    }

    [Fact]
    public void Encode_ArrayOfObjects_IndexesEveryElement()
    {
        var sut = new StripeForm
        {
            ["mode"] = "payment",
            ["line_items"] = new[]
            {
                new StripeForm
                {
                    ["price_data"] = new StripeForm { ["currency"] = "usd", ["unit_amount"] = 1999, ["product_data"] = new StripeForm { ["name"] = "T-shirt" } },
                    ["quantity"] = 2,
                },
                new StripeForm { ["price"] = "price_123", ["quantity"] = 1 },
            },
        };

        sut.Encode().Should().Be(
            "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=1999&line_items[0][price_data][product_data][name]=T-shirt&line_items[0][quantity]=2&line_items[1][price]=price_123&line_items[1][quantity]=1");
    }

    /// <summary>Lists of forms and dictionaries have their own fast paths; other collections must encode the same.</summary>
    [Fact]
    public void Encode_EveryCollectionShape_EncodesTheSame()
    {
        static StripeForm Line(string price) => new() { ["price"] = price, ["quantity"] = 1 };
        var metadata = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1 & 2" };
        const string Expected = "line_items[0][price]=p_1&line_items[0][quantity]=1&line_items[1][price]=p_2&line_items[1][quantity]=1&metadata[b]=2&metadata[a]=1%20%26%202";

        var asListAndDictionary = new StripeForm { ["line_items"] = new List<StripeForm> { Line("p_1"), Line("p_2") }, ["metadata"] = metadata };
        var asArrayAndReadOnly = new StripeForm { ["line_items"] = new[] { Line("p_1"), Line("p_2") }, ["metadata"] = new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(metadata) };
        var asSequenceAndPairs = new StripeForm { ["line_items"] = new[] { "p_1", "p_2" }.Select(Line), ["metadata"] = metadata.ToList() };

        asListAndDictionary.Encode().Should().Be(Expected);
        asArrayAndReadOnly.Encode().Should().Be(Expected);
        asSequenceAndPairs.Encode().Should().Be(Expected);
        new StripeForm { ["line_items"] = new List<StripeForm>(), ["metadata"] = new Dictionary<string, string>() }.Encode().Should().BeEmpty();
    }

    [Fact]
    public void Encode_ScalarArray_IsIndexedNeverEmptyBrackets()
    {
        var sut = new StripeForm { ["expand"] = new[] { "line_items", "customer" }, ["limit"] = 3 };

        sut.Encode().Should().Be("expand[0]=line_items&expand[1]=customer&limit=3");
    }

    [Fact]
    public void Encode_BooleansNullsEmptiesAndEmptyArrays_FollowStripeNode()
    {
        var sut = new StripeForm
        {
            ["allow_promotion_codes"] = true,
            ["automatic_tax"] = new StripeForm { ["enabled"] = false },
            ["metadata"] = new Dictionary<string, string> { ["old_key"] = string.Empty },
            ["description"] = null,
            ["expand"] = Array.Empty<string>(),
        };

        sut.Encode().Should().Be("allow_promotion_codes=true&automatic_tax[enabled]=false&metadata[old_key]=&description=");
    }

    [Fact]
    public void Encode_ReservedAndNonAsciiCharacters_EscapesLikeEncodeUriComponentPlusSubDelims()
    {
        var sut = new StripeForm
        {
            ["success_url"] = "https://x.io/ok?id={CHECKOUT_SESSION_ID}",
            ["name"] = "Zoë & Co (test)!",
        };

        sut.Encode().Should().Be("success_url=https%3A%2F%2Fx.io%2Fok%3Fid%3D%7BCHECKOUT_SESSION_ID%7D&name=Zo%C3%AB%20%26%20Co%20%28test%29%21");
    }

    [Fact]
    public void Encode_LongAmountsAndNestedDictionaries_UseInvariantCulture()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var sut = new StripeForm { ["amount"] = 1234567890123L, ["items"] = new[] { new StripeForm { ["quantity"] = 1000 } } };

            sut.Encode().Should().Be("amount=1234567890123&items[0][quantity]=1000");
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void Encode_UnknownValueType_ThrowsNamingTheKey()
    {
        var sut = new StripeForm { ["when"] = DateTime.UnixEpoch };

        sut.Invoking(form => form.Encode()).Should().Throw<ArgumentException>().WithMessage("*'when'*DateTime*");
    }

    [Theory]
    [InlineData("plain-ASCII_text.~09")]
    [InlineData("brackets [kept] in values, {braces} not")]
    [InlineData("every ASCII: !\"#$%&'()*+,/:;<=>?@\\^`|")]
    [InlineData("Zoë, 東京, emoji 🎧 end")]
    [InlineData("")]
    public void Encode_EscapesExactlyAsUriEscapeDataStringWithBracketsRestored(string text)
    {
        var expected = Uri.EscapeDataString(text).Replace("%5B", "[", StringComparison.Ordinal).Replace("%5D", "]", StringComparison.Ordinal);
        var sut = new StripeForm { [text.Length == 0 ? "k" : text] = text };

        sut.Encode().Should().Be((text.Length == 0 ? "k" : expected) + "=" + expected);
        StripeFormWriter.EncodeToUtf8(sut).Should().Equal(System.Text.Encoding.ASCII.GetBytes(sut.Encode()));
    }

    /// <summary>
    /// A lone surrogate has no UTF-8 form. <c>Uri.EscapeDataString</c> sends U+FFFD for it, so "user-\uD83D" and
    /// "user-\uDE00" would reach Stripe as one id; stripe-node's <c>encodeURIComponent</c> throws, and so does the writer.
    /// </summary>
    [Theory]
    [InlineData(@"\ud800")]
    [InlineData(@"user-\uD83D")]
    [InlineData(@"user-\uDE00")]
    [InlineData(@"swapped \uDFA7\uD83C halves")]
    public void Encode_LoneSurrogate_IsRefusedNotSentAsAReplacementCharacter(string escaped)
    {
        var text = Regex.Unescape(escaped); // theory data would reach the test with U+FFFD in place of the surrogate
        var inValue = new StripeForm { ["client_reference_id"] = text };
        var inKey = new StripeForm { ["metadata"] = new Dictionary<string, string> { [text] = "v" } };

        inValue.Invoking(form => StripeFormWriter.EncodeToUtf8(form)).Should().Throw<ArgumentException>().WithMessage("*unpaired UTF-16 surrogate*");
        inKey.Invoking(form => StripeFormWriter.EncodeToUtf8(form)).Should().Throw<ArgumentException>().WithMessage("*unpaired UTF-16 surrogate*");
        inValue.Invoking(form => form.Encode()).Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Encode_EveryAsciiAndLatin1Character_EscapesAsUriEscapeDataStringWithBracketsRestored()
    {
        var text = new string([.. Enumerable.Range(0, 256).Select(code => (char)code)]);
        var expected = Uri.EscapeDataString(text).Replace("%5B", "[", StringComparison.Ordinal).Replace("%5D", "]", StringComparison.Ordinal);

        new StripeForm { ["k"] = text }.Encode().Should().Be("k=" + expected);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(700)]
    [InlineData(1023)]
    [InlineData(5000)]
    public void Encode_LongKeysAndValues_GrowTheirBuffersAndStayExact(int plainPrefix)
    {
        // A plain run of any length, then characters that need escaping, so that both the fast and the escaping
        // paths cross the pooled buffers' first sizes (128 bytes for keys, 4096 for the body: the longer cases).
        var key = new string('k', plainPrefix % 300) + "[ключ]";
        var value = new string('v', plainPrefix) + " Zoë & 東京 🎧 " + new string('w', plainPrefix);
        var escaped = (string text) => Uri.EscapeDataString(text).Replace("%5B", "[", StringComparison.Ordinal).Replace("%5D", "]", StringComparison.Ordinal);
        var sut = new StripeForm { ["first"] = value, ["nested"] = new StripeForm { [key] = value } };

        sut.Encode().Should().Be("first=" + escaped(value) + "&nested[" + escaped(key) + "]=" + escaped(value));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encode_DictionaryWithAnEmptyKey_IsRefusedNamingTheParameter(bool readOnly)
    {
        var metadata = new Dictionary<string, string> { ["order_id"] = "1", [string.Empty] = "v" };
        var sut = new StripeForm { ["metadata"] = readOnly ? new System.Collections.ObjectModel.ReadOnlyDictionary<string, string>(metadata) : metadata };

        sut.Invoking(form => form.Encode()).Should().Throw<ArgumentException>().WithMessage("*under 'metadata'*empty key*");
    }
}
