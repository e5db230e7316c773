using System.Text.Json;
using System.Text.Json.Serialization;

namespace Wavhaven.Payments.Stripe.Serialization;

/// <summary>
/// Reads a Checkout session's <c>id</c>, <c>url</c> and <c>expires_at</c> and skips the rest of the object, which is
/// still read to its end (so a malformed answer fails as before). The full <see cref="StripeCheckoutSession"/> costs a
/// string per field, a dictionary per metadata and nested object, for about 3 KB of JSON that creating a checkout
/// never looks at.
/// </summary>
/// <remarks>
/// The three fields are read as <see cref="StripeCheckoutSession"/> reads them: top-level properties only, names
/// matched exactly (escaped names included), the last one wins when a name repeats, <see langword="null"/> is the same
/// as absent, and a value of another JSON type is a <see cref="JsonException"/>.
/// </remarks>
internal sealed class CheckoutSessionLinkConverter : JsonConverter<StripeCheckoutSessionLink>
{
    public override StripeCheckoutSessionLink Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"Expected a Checkout session object, found {reader.TokenType}.");
        }

        string? id = null;
        string? url = null;
        DateTimeOffset? expiresAt = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                id = ReadString(ref reader, "id");
            }
            else if (reader.ValueTextEquals("url"u8))
            {
                reader.Read();
                url = ReadString(ref reader, "url");
            }
            else if (reader.ValueTextEquals("expires_at"u8))
            {
                reader.Read();
                expiresAt = reader.TokenType switch
                {
                    JsonTokenType.Null => null,
                    JsonTokenType.Number when reader.TryGetInt64(out var seconds) => DateTimeOffset.FromUnixTimeSeconds(seconds),
                    _ => throw new JsonException($"Expected expires_at to be Unix seconds, found {reader.TokenType}."),
                };
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return new StripeCheckoutSessionLink(id ?? string.Empty, url, expiresAt);
    }

    /// <summary>Not used: the library only reads this answer.</summary>
    public override void Write(Utf8JsonWriter writer, StripeCheckoutSessionLink value, JsonSerializerOptions options) =>
        throw new NotSupportedException("A Checkout session link is only read, never written.");

    private static string? ReadString(ref Utf8JsonReader reader, string name) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.String => reader.GetString(),
        _ => throw new JsonException($"Expected {name} to be a string, found {reader.TokenType}."),
    };
}
