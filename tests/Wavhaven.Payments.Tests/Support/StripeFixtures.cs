using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Tests.Support;

/// <summary>Stripe's published example objects (shared/stripe/fixtures3.json), to build realistic payloads from.</summary>
public static class StripeFixtures
{
    private static readonly Lazy<JsonObject> Resources = new(() =>
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", "fixtures3.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException("Stripe's fixtures are expected beside the repository at ../shared/stripe/fixtures3.json.", path);
        }

        return JsonNode.Parse(File.ReadAllText(path))!["resources"]!.AsObject();
    });

    /// <summary>Gets the name of every resource with an example object.</summary>
    public static IEnumerable<string> ResourceNames => Resources.Value.Select(resource => resource.Key);

    /// <summary>A fresh, mutable copy of the example object of a resource (e.g. <c>checkout.session</c>).</summary>
    public static JsonObject Get(string resource) =>
        Resources.Value[resource]?.DeepClone().AsObject() ?? throw new ArgumentException($"No fixture for '{resource}'.", nameof(resource));
}
