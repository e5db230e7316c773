using System.Buffers;
using System.Buffers.Text;
using System.Collections;
using System.Text;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// The parameters of one Stripe API request, encoded the way Stripe's official clients encode them:
/// brackets for nesting (<c>metadata[user_id]=42</c>), every array indexed (<c>expand[0]=a</c>),
/// <c>true</c>/<c>false</c> for booleans, <c>key=</c> for <see langword="null"/> and empty strings
/// (which unset a field), empty arrays dropped, and RFC 3986 escaping with brackets left literal.
/// </summary>
/// <remarks>
/// Values may be <see cref="string"/>, <see cref="bool"/>, <see cref="int"/>, <see cref="long"/>,
/// <see langword="null"/>, a nested <see cref="StripeForm"/>, a string dictionary, or a sequence of any of these.
/// A key that is never added is not sent at all.
/// </remarks>
internal sealed class StripeForm : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly List<KeyValuePair<string, object?>> _entries = [];

    /// <summary>Gets the number of top-level entries.</summary>
    public int Count => _entries.Count;

    /// <summary>Adds a parameter; allows collection-initializer syntax <c>["mode"] = "payment"</c>.</summary>
    public object? this[string key]
    {
        set => Add(key, value);
    }

    /// <summary>Adds a parameter.</summary>
    public StripeForm Add(string key, object? value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        _entries.Add(new(key, value));
        return this;
    }

    /// <summary>Encodes the parameters as an <c>application/x-www-form-urlencoded</c> body or query string.</summary>
    public string Encode() => Encoding.ASCII.GetString(EncodeToUtf8());

    /// <summary>Encodes the parameters as a UTF-8 <c>application/x-www-form-urlencoded</c> body (all ASCII: the rest is escaped).</summary>
    /// <remarks>
    /// Written straight into one pooled buffer, with nested keys as a stack of escaped prefixes: building each nested
    /// key and escaped value as strings took 31 KB and 13 µs for a 10-line checkout.
    /// </remarks>
    public byte[] EncodeToUtf8()
    {
        var writer = new FormWriter();
        try
        {
            foreach (var (key, value) in _entries)
            {
                var mark = writer.KeyLength;
                writer.PushKey(key);
                writer.Append(value);
                writer.PopKey(mark);
            }

            return writer.ToArray();
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => Encode();

    /// <summary>The encoder: the body so far and the current key, both escaped ASCII in pooled buffers.</summary>
    private sealed class FormWriter : IDisposable
    {
        /// <summary>1 for the ASCII characters sent as they are: RFC 3986 unreserved, plus brackets.</summary>
        private static ReadOnlySpan<byte> IsUnreserved =>
        [
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // control
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, //  !"#$%&'()*+,-./0-9:;<=>?
            0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, // @A-Z[\]^_
            0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, // `a-z{|}~DEL
        ];

        private byte[] _body = ArrayPool<byte>.Shared.Rent(1024);
        private byte[] _key = ArrayPool<byte>.Shared.Rent(128);
        private int _bodyLength;

        public int KeyLength { get; private set; }

        public void PushKey(string key)
        {
            Escape(key, ref _key, KeyLength, out var end);
            KeyLength = end;
        }

        public void PopKey(int mark) => KeyLength = mark;

        public void Append(object? value)
        {
            switch (value)
            {
                case null:
                    StartPair();
                    break;
                case string text:
                    StartPair();
                    Escape(text, ref _body, _bodyLength, out _bodyLength);
                    break;
                case bool flag:
                    StartPair();
                    Write(flag ? "true"u8 : "false"u8, ref _body, ref _bodyLength);
                    break;
                case int number:
                    StartPair();
                    WriteNumber(number, ref _body, ref _bodyLength);
                    break;
                case long number:
                    StartPair();
                    WriteNumber(number, ref _body, ref _bodyLength);
                    break;
                case StripeForm nested:
                    foreach (var (childKey, childValue) in nested._entries)
                    {
                        AppendChild(childKey, childValue);
                    }

                    break;
                case Dictionary<string, string> dictionary: // metadata, the common case: its enumerator is not boxed
                    foreach (var (childKey, childValue) in dictionary)
                    {
                        AppendChild(childKey, childValue);
                    }

                    break;
                case IEnumerable<KeyValuePair<string, string>> dictionary:
                    foreach (var (childKey, childValue) in dictionary)
                    {
                        AppendChild(childKey, childValue);
                    }

                    break;
                case List<StripeForm> forms: // line items, the common case: indexed without boxing an enumerator
                    for (var index = 0; index < forms.Count; index++)
                    {
                        AppendIndexed(index, forms[index]);
                    }

                    break;
                case IEnumerable sequence:
                    var position = 0;
                    foreach (var item in sequence)
                    {
                        AppendIndexed(position++, item);
                    }

                    break;
                default:
                    throw new ArgumentException(
                        $"Stripe parameter '{Encoding.ASCII.GetString(_key, 0, KeyLength)}' has a value of type {value.GetType().Name}, which the form encoder does not know.",
                        nameof(value));
            }
        }

        public byte[] ToArray() => _body.AsSpan(0, _bodyLength).ToArray();

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_body);
            ArrayPool<byte>.Shared.Return(_key);
        }

        private void AppendIndexed(int index, object? item)
        {
            var mark = KeyLength;
            var length = KeyLength;
            Write((byte)'[', ref _key, ref length);
            WriteNumber(index, ref _key, ref length);
            Write((byte)']', ref _key, ref length);
            KeyLength = length;
            Append(item);
            KeyLength = mark;
        }

        private void AppendChild(string childKey, object? childValue)
        {
            var mark = KeyLength;
            var length = KeyLength;
            Write((byte)'[', ref _key, ref length);
            Escape(childKey, ref _key, length, out length);
            Write((byte)']', ref _key, ref length);
            KeyLength = length;
            Append(childValue);
            KeyLength = mark;
        }

        /// <summary>Writes <c>[&amp;]key=</c>; the value follows.</summary>
        private void StartPair()
        {
            if (_bodyLength > 0)
            {
                Write((byte)'&', ref _body, ref _bodyLength);
            }

            Write(_key.AsSpan(0, KeyLength), ref _body, ref _bodyLength);
            Write((byte)'=', ref _body, ref _bodyLength);
        }

        // encodeURIComponent plus !'()* (that is, RFC 3986 unreserved characters only), with brackets left
        // literal: exactly what stripe-node sends. Other characters are percent-encoded as UTF-8 (uppercase hex),
        // a lone surrogate as U+FFFD, as Uri.EscapeDataString does.
        // Keys and values are short (most under 20 characters), so one scalar pass over a table beats a vectorized
        // search plus a transcoding call per run: the search's set-up cost dominated the encoder's profile.
        private static void Escape(string text, ref byte[] buffer, int start, out int end)
        {
            Ensure(ref buffer, start, text.Length);
            var length = start;
            var i = 0;
            var table = IsUnreserved;
            var output = buffer;
            for (; i < text.Length; i++)
            {
                var c = text[i];
                if (c >= 128 || table[c] == 0)
                {
                    break;
                }

                output[length++] = (byte)c;
            }

            if (i < text.Length)
            {
                length = EscapeRest(text.AsSpan(i), ref buffer, length);
            }

            end = length;
        }

        /// <summary>The rest of <see cref="Escape"/> from the first character that needs a percent-encoding.</summary>
        private static int EscapeRest(ReadOnlySpan<char> rest, ref byte[] buffer, int length)
        {
            // At most 9 bytes a character: 3 UTF-8 bytes (a surrogate pair is 4 for 2 characters), 3 bytes each.
            Ensure(ref buffer, length, 9 * rest.Length);
            var output = buffer;
            Span<byte> utf8 = stackalloc byte[4];
            while (rest.Length > 0)
            {
                var c = rest[0];
                if (c < 128)
                {
                    if (IsUnreserved[c] != 0)
                    {
                        output[length++] = (byte)c;
                    }
                    else
                    {
                        length = WritePercent((byte)c, output, length);
                    }

                    rest = rest[1..];
                    continue;
                }

                Rune.DecodeFromUtf16(rest, out var rune, out var consumed);
                rest = rest[consumed..];
                foreach (var b in utf8[..rune.EncodeToUtf8(utf8)])
                {
                    length = WritePercent(b, output, length);
                }
            }

            return length;
        }

        private static int WritePercent(byte b, byte[] output, int length)
        {
            output[length] = (byte)'%';
            output[length + 1] = (byte)"0123456789ABCDEF"[b >> 4];
            output[length + 2] = (byte)"0123456789ABCDEF"[b & 0xF];
            return length + 3;
        }

        private static void WriteNumber(long number, ref byte[] buffer, ref int length)
        {
            Ensure(ref buffer, length, 20);
            Utf8Formatter.TryFormat(number, buffer.AsSpan(length), out var written);
            length += written;
        }

        private static void Write(byte value, ref byte[] buffer, ref int length)
        {
            Ensure(ref buffer, length, 1);
            buffer[length++] = value;
        }

        private static void Write(ReadOnlySpan<byte> bytes, ref byte[] buffer, ref int length)
        {
            Ensure(ref buffer, length, bytes.Length);
            bytes.CopyTo(buffer.AsSpan(length));
            length += bytes.Length;
        }

        private static void Ensure(ref byte[] buffer, int length, int more)
        {
            if (length + more <= buffer.Length)
            {
                return;
            }

            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(buffer.Length * 2, length + more));
            buffer.AsSpan(0, length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = larger;
        }
    }
}
