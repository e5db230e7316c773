using System.Globalization;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>Typed reads of a <see cref="FormNode"/>, with Stripe's errors naming the parameter in bracket form.</summary>
internal readonly struct Params(FormNode node, string path)
{
    public FormNode Node => node;

    public string Path => path;

    public bool Has(string name) => node[name] is not null;

    public string ParamPath(string name) => ParamSpec.Join(path, name);

    /// <summary>The value, or <see langword="null"/> when absent or sent empty.</summary>
    public string? String(string name) => node[name]?.Value is { Length: > 0 } value ? value : null;

    public string RequiredString(string name) => String(name) ?? throw ApiException.Missing(ParamPath(name));

    public long? Long(string name)
    {
        var text = String(name);
        if (text is null)
        {
            return null;
        }

        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ApiException.InvalidRequest($"Invalid integer: {text}", ParamPath(name));
    }

    public bool? Bool(string name)
    {
        var text = String(name);
        if (text is null)
        {
            return null;
        }

        return text.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw ApiException.InvalidRequest($"Invalid boolean: {text}", ParamPath(name)),
        };
    }

    /// <summary>A string that must be one of <paramref name="allowed"/>.</summary>
    public string? OneOf(string name, params string[] allowed)
    {
        var text = String(name);
        if (text is not null && !allowed.Contains(text, StringComparer.Ordinal))
        {
            throw ApiException.InvalidRequest($"Invalid {ParamPath(name)}: must be one of {string.Join(", ", allowed)}", ParamPath(name));
        }

        return text;
    }

    public Params? Object(string name) => node[name] is { } child ? new Params(child, ParamPath(name)) : null;

    public IEnumerable<Params> List(string name)
    {
        if (node[name] is not { } child)
        {
            yield break;
        }

        foreach (var (index, item) in child.Items())
        {
            yield return new Params(item, ParamSpec.Join(ParamPath(name), index.ToString(CultureInfo.InvariantCulture)));
        }
    }

    public IReadOnlyList<string> Strings(string name) =>
        node[name] is { } child
            ? [.. child.Items().Select(item => item.Node.Value).OfType<string>().Where(value => value.Length > 0)]
            : [];

    /// <summary>
    /// Applies a metadata parameter to <paramref name="target"/> the way Stripe does on updates: <c>metadata=</c>
    /// clears it, <c>metadata[k]=</c> removes one key, other keys are set.
    /// </summary>
    public void ApplyMetadata(string name, Dictionary<string, string> target)
    {
        if (node[name] is not { } child)
        {
            return;
        }

        if (child.IsEmptyLeaf)
        {
            target.Clear();
            return;
        }

        // Checked on a copy first: a refused parameter changes nothing.
        var result = new Dictionary<string, string>(target, StringComparer.Ordinal);
        foreach (var (key, value) in child.Children)
        {
            if (string.IsNullOrEmpty(value.Value))
            {
                result.Remove(key);
            }
            else
            {
                if (key.Length > 40)
                {
                    throw ApiException.InvalidRequest($"Metadata keys can be at most 40 characters; '{key}' is {key.Length}.", ParamSpec.Join(ParamPath(name), key));
                }

                if (value.Value.Length > 500)
                {
                    throw ApiException.InvalidRequest($"Metadata values can be at most 500 characters; the value of '{key}' is {value.Value.Length}.", ParamSpec.Join(ParamPath(name), key));
                }

                result[key] = value.Value;
            }
        }

        if (result.Count > 50)
        {
            throw ApiException.InvalidRequest("Metadata can have at most 50 keys.", ParamPath(name));
        }

        target.Clear();
        foreach (var (key, value) in result)
        {
            target[key] = value;
        }
    }

    /// <summary>New metadata from a parameter (empty when absent).</summary>
    public Dictionary<string, string> Metadata(string name)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        ApplyMetadata(name, metadata);
        return metadata;
    }
}
