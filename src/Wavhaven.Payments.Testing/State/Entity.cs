using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.State;

/// <summary>An object the emulator keeps, rendered on demand in Stripe's JSON shape.</summary>
internal abstract class Entity
{
    protected Entity(string id, DateTimeOffset created)
    {
        Id = id;
        Created = created;
    }

    /// <summary>Gets the Stripe id, e.g. <c>cus_…</c>.</summary>
    public string Id { get; }

    /// <summary>Gets the Stripe object name, e.g. <c>customer</c>.</summary>
    public abstract string ObjectName { get; }

    /// <summary>Gets the emulator time of creation.</summary>
    public DateTimeOffset Created { get; }

    /// <summary>Gets the creation order, which breaks ties between equal timestamps in lists.</summary>
    public long Sequence { get; set; }

    /// <summary>Renders the object as Stripe would answer it at the pinned API version.</summary>
    public abstract JsonObject ToJson(EmulatorStore store);
}

/// <summary>Stripe-shaped ids: a prefix and random alphanumerics.</summary>
internal static class Ids
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string New(string prefix, int length = 24) => prefix + RandomNumberGenerator.GetString(Alphabet, length);
}

/// <summary>Small helpers for building Stripe JSON.</summary>
internal static class Json
{
    public static long Unix(this DateTimeOffset time) => time.ToUnixTimeSeconds();

    public static long? Unix(this DateTimeOffset? time) => time?.ToUnixTimeSeconds();

    public static JsonObject Metadata(IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new JsonObject();
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                json[key] = value;
            }
        }

        return json;
    }

    public static JsonArray Strings(IEnumerable<string> values)
    {
        var array = new JsonArray();
        foreach (var value in values)
        {
            array.Add((JsonNode?)value);
        }

        return array;
    }

    public static JsonObject List(string url, IEnumerable<JsonNode> data, bool hasMore = false, bool totalCount = false)
    {
        var array = new JsonArray();
        foreach (var item in data)
        {
            array.Add(item);
        }

        var list = new JsonObject
        {
            ["object"] = "list",
            ["data"] = array,
            ["has_more"] = hasMore,
        };
        if (totalCount)
        {
            list["total_count"] = array.Count;
        }

        list["url"] = url;
        return list;
    }

    /// <summary>
    /// The old values of what changed between two renderings, as Stripe's <c>previous_attributes</c>: a
    /// changed field gives its old value; objects are compared field by field, arrays whole.
    /// </summary>
    public static JsonObject? Diff(JsonObject before, JsonObject after)
    {
        JsonObject? previous = null;
        foreach (var (key, oldValue) in before)
        {
            var newValue = after[key];
            if (JsonNode.DeepEquals(oldValue, newValue))
            {
                continue;
            }

            JsonNode? change = oldValue is JsonObject oldObject && newValue is JsonObject newObject
                ? Diff(oldObject, newObject)
                : oldValue?.DeepClone();
            previous ??= [];
            previous[key] = change;
        }

        return previous;
    }
}
