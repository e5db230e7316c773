using System.Globalization;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>
/// Stripe's form parameters as a tree: <c>line_items[0][price]=p</c> becomes
/// <c>line_items → 0 → price = p</c>. A node is a leaf with a value, or has children (arrays are nodes whose
/// children are named by index). <c>key=</c> is a leaf with an empty value, which unsets the field.
/// </summary>
internal sealed class FormNode
{
    private Dictionary<string, FormNode>? _children;

    /// <summary>Gets the leaf value, or <see langword="null"/> for a node with children.</summary>
    public string? Value { get; private set; }

    /// <summary>Gets the children, in the order they were first given.</summary>
    public IReadOnlyDictionary<string, FormNode> Children => _children ?? (IReadOnlyDictionary<string, FormNode>)EmptyChildren;

    /// <summary>Gets whether the node was sent as <c>key=</c>.</summary>
    public bool IsEmptyLeaf => Value is { Length: 0 } && _children is null;

    private static readonly Dictionary<string, FormNode> EmptyChildren = [];

    /// <summary>Parses a form body or query string (without the leading <c>?</c>).</summary>
    /// <exception cref="ApiException">A key is malformed.</exception>
    public static FormNode Parse(string? encoded)
    {
        var root = new FormNode();
        if (string.IsNullOrEmpty(encoded))
        {
            return root;
        }

        foreach (var pair in encoded.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var rawKey = equals < 0 ? pair : pair[..equals];
            var rawValue = equals < 0 ? string.Empty : pair[(equals + 1)..];
            var key = Decode(rawKey);
            var value = Decode(rawValue);
            root.Add(SplitKey(key), value, key);
        }

        return root;
    }

    /// <summary>Gets a child by name.</summary>
    public FormNode? this[string name] => _children is not null && _children.TryGetValue(name, out var child) ? child : null;

    /// <summary>Gets the children of an array node, ordered by index.</summary>
    public IEnumerable<(int Index, FormNode Node)> Items() =>
        Children
            .Select(child => (Index: int.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : -1, Node: child.Value))
            .Where(item => item.Index >= 0)
            .OrderBy(item => item.Index);

    private void Add(List<string> segments, string value, string fullKey)
    {
        var node = this;
        foreach (var segment in segments)
        {
            node._children ??= new Dictionary<string, FormNode>(StringComparer.Ordinal);
            var name = segment.Length == 0
                ? node._children.Count.ToString(CultureInfo.InvariantCulture)
                : segment;
            if (!node._children.TryGetValue(name, out var child))
            {
                child = new FormNode();
                node._children[name] = child;
            }

            node = child;
        }

        if (node._children is not null)
        {
            throw ApiException.InvalidRequest($"Invalid value for {fullKey}: it is given both as a value and as a hash or array.", fullKey);
        }

        node.Value = value;
    }

    private static List<string> SplitKey(string key)
    {
        var open = key.IndexOf('[', StringComparison.Ordinal);
        if (open < 0)
        {
            return [key];
        }

        var segments = new List<string> { key[..open] };
        var position = open;
        while (position < key.Length)
        {
            if (key[position] != '[')
            {
                throw ApiException.InvalidRequest($"Invalid parameter name: {key}. Nest with brackets, e.g. metadata[key]=value.", key);
            }

            var close = key.IndexOf(']', position);
            if (close < 0)
            {
                throw ApiException.InvalidRequest($"Invalid parameter name: {key}. A '[' has no matching ']'.", key);
            }

            segments.Add(key[(position + 1)..close]);
            position = close + 1;
        }

        if (segments[0].Length == 0)
        {
            throw ApiException.InvalidRequest($"Invalid parameter name: {key}.", key);
        }

        return segments;
    }

    private static string Decode(string text) => Uri.UnescapeDataString(text.Replace('+', ' '));
}
