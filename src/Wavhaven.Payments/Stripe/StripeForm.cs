using System.Collections;

namespace Wavhaven.Payments.Stripe;

/// <summary>
/// The parameters of one Stripe API request as keys and values, in the order added, encoded by
/// <see cref="StripeFormWriter"/> the way Stripe's official clients encode them (its summary has the rules).
/// </summary>
/// <remarks>
/// Values may be <see cref="string"/>, <see cref="bool"/>, <see cref="int"/>, <see cref="long"/>,
/// <see langword="null"/>, nested parameters (another <see cref="StripeForm"/>), a string dictionary, or a sequence of
/// any of these. A key that is never added is not sent at all.
/// </remarks>
internal sealed class StripeForm : IStripeParameters, IEnumerable<KeyValuePair<string, object?>>
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
    public string Encode() => StripeFormWriter.Encode(this);

    /// <inheritdoc />
    public void WriteTo(StripeFormWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        foreach (var (key, value) in _entries)
        {
            writer.Add(key, value);
        }
    }

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => Encode();
}
