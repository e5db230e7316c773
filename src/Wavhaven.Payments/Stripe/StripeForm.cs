using System.Collections;
using System.Globalization;
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
    public string Encode()
    {
        var builder = new StringBuilder(256);
        foreach (var (key, value) in _entries)
        {
            Append(builder, Escape(key), value);
        }

        return builder.ToString();
    }

    /// <summary>Encodes the parameters as a UTF-8 <c>application/x-www-form-urlencoded</c> body.</summary>
    public byte[] EncodeToUtf8() => Encoding.UTF8.GetBytes(Encode());

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => Encode();

    private static void Append(StringBuilder builder, string key, object? value)
    {
        switch (value)
        {
            case null:
                AppendPair(builder, key, string.Empty);
                break;
            case string text:
                AppendPair(builder, key, Escape(text));
                break;
            case bool flag:
                AppendPair(builder, key, flag ? "true" : "false");
                break;
            case int number:
                AppendPair(builder, key, number.ToString(CultureInfo.InvariantCulture));
                break;
            case long number:
                AppendPair(builder, key, number.ToString(CultureInfo.InvariantCulture));
                break;
            case StripeForm nested:
                foreach (var (childKey, childValue) in nested._entries)
                {
                    Append(builder, key + "[" + Escape(childKey) + "]", childValue);
                }

                break;
            case IEnumerable<KeyValuePair<string, string>> dictionary:
                foreach (var (childKey, childValue) in dictionary)
                {
                    Append(builder, key + "[" + Escape(childKey) + "]", childValue);
                }

                break;
            case IEnumerable sequence:
                var index = 0;
                foreach (var item in sequence)
                {
                    Append(builder, key + "[" + index.ToString(CultureInfo.InvariantCulture) + "]", item);
                    index++;
                }

                break;
            default:
                throw new ArgumentException(
                    $"Stripe parameter '{key}' has a value of type {value.GetType().Name}, which the form encoder does not know.",
                    nameof(value));
        }
    }

    private static void AppendPair(StringBuilder builder, string key, string escapedValue)
    {
        if (builder.Length > 0)
        {
            builder.Append('&');
        }

        builder.Append(key).Append('=').Append(escapedValue);
    }

    // encodeURIComponent plus !'()* (that is, RFC 3986 unreserved characters only), then brackets
    // restored: exactly what stripe-node sends.
    private static string Escape(string text) =>
        Uri.EscapeDataString(text).Replace("%5B", "[", StringComparison.Ordinal).Replace("%5D", "]", StringComparison.Ordinal);
}
