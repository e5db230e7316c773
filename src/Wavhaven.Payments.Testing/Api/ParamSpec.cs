namespace Wavhaven.Payments.Testing.Api;

/// <summary>
/// The parameters an endpoint accepts, as a shape: Stripe refuses any parameter it does not know with
/// <c>Received unknown parameter: a[b]</c> and <c>param</c> naming it, before anything else is checked.
/// </summary>
internal abstract class ParamSpec
{
    /// <summary>A string, number or boolean.</summary>
    public static readonly ParamSpec Scalar = new ScalarSpec();

    /// <summary>Free-form string keys and values (metadata).</summary>
    public static readonly ParamSpec Map = new MapSpec();

    /// <summary>An object with the given fields.</summary>
    public static ObjectSpec Object(params (string Name, ParamSpec Spec)[] fields) => new(fields);

    /// <summary>A real Stripe parameter the emulator does not implement: refused with a message that says so, not as unknown.</summary>
    public static readonly ParamSpec Unsupported = new UnsupportedSpec();

    /// <summary>An indexed array (<c>key[0]=…</c>; <c>key[]=…</c> is accepted too).</summary>
    public static ParamSpec ListOf(ParamSpec item) => new ListSpec(item);

    /// <summary>Throws the error Stripe gives for the first parameter that does not fit.</summary>
    public abstract void Check(FormNode node, string path);

    public static string Join(string path, string name) => path.Length == 0 ? name : path + "[" + name + "]";

    private sealed class ScalarSpec : ParamSpec
    {
        public override void Check(FormNode node, string path)
        {
            if (node.Value is null)
            {
                throw ApiException.InvalidRequest($"Invalid value for {path}: expected a string, number or boolean, got a hash or array.", path);
            }
        }
    }

    private sealed class UnsupportedSpec : ParamSpec
    {
        public override void Check(FormNode node, string path) =>
            throw ApiException.InvalidRequest($"{path} is a Stripe parameter that the emulator does not implement.", path, "parameter_unsupported_by_emulator");
    }

    private sealed class MapSpec : ParamSpec
    {
        public override void Check(FormNode node, string path)
        {
            if (node.Value is { Length: > 0 })
            {
                throw ApiException.InvalidRequest($"Invalid object: {path} must be a hash such as {path}[key]=value (or {path}= to unset it).", path);
            }

            foreach (var (key, child) in node.Children)
            {
                Scalar.Check(child, Join(path, key));
            }
        }
    }

    private sealed class ListSpec(ParamSpec item) : ParamSpec
    {
        public override void Check(FormNode node, string path)
        {
            if (node.Value is { Length: > 0 })
            {
                throw ApiException.InvalidRequest($"Invalid array: {path} must be indexed, e.g. {path}[0]=value.", path);
            }

            foreach (var (key, child) in node.Children)
            {
                var childPath = Join(path, key);
                if (!int.TryParse(key, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                {
                    throw ApiException.InvalidRequest($"Invalid array: {path} has the non-numeric index '{key}'.", childPath);
                }

                item.Check(child, childPath);
            }
        }
    }
}

/// <summary>An object parameter with named fields.</summary>
internal sealed class ObjectSpec : ParamSpec
{
    private readonly Dictionary<string, ParamSpec> _fields;

    public ObjectSpec((string Name, ParamSpec Spec)[] fields)
    {
        _fields = fields.ToDictionary(field => field.Name, field => field.Spec, StringComparer.Ordinal);
    }

    public override void Check(FormNode node, string path)
    {
        if (node.Value is { Length: > 0 })
        {
            throw ApiException.InvalidRequest($"Invalid object: {path} must be a hash of its fields.", path);
        }

        foreach (var (name, child) in node.Children)
        {
            var childPath = Join(path, name);
            if (!_fields.TryGetValue(name, out var spec))
            {
                throw ApiException.UnknownParameter(childPath);
            }

            spec.Check(child, childPath);
        }
    }
}
