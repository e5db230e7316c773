using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wavhaven.Payments.Stripe.Serialization;

/// <summary>Reads Stripe <c>metadata</c> as a string dictionary that is never <see langword="null"/>.</summary>
internal sealed class MetadataConverter : JsonConverter<IReadOnlyDictionary<string, string>>
{
    public override bool HandleNull => true;

    public override IReadOnlyDictionary<string, string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return StripeMetadata.Empty;
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Expected metadata to be an object, found {reader.TokenType}.");
        }

        Dictionary<string, string>? values = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            reader.Read();
            var value = reader.TokenType switch
            {
                JsonTokenType.String => reader.GetString()!,
                JsonTokenType.Null => string.Empty,
                _ => throw new JsonException($"Expected metadata value '{key}' to be a string, found {reader.TokenType}."),
            };
            (values ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = value;
        }

        return values ?? StripeMetadata.Empty;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyDictionary<string, string> value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        foreach (var (key, text) in value)
        {
            writer.WriteString(key, text);
        }

        writer.WriteEndObject();
    }
}

/// <summary>Shared empty metadata: read-only, since every object without metadata holds this one instance.</summary>
internal static class StripeMetadata
{
    public static readonly IReadOnlyDictionary<string, string> Empty = System.Collections.ObjectModel.ReadOnlyDictionary<string, string>.Empty;
}
