using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Wavhaven.Payments.Stripe.Serialization;

/// <summary>
/// Reads Stripe's answers and webhook objects from their raw UTF-8 JSON. A top-level <see cref="StripeObject"/> is
/// read without its <see cref="StripeObject.ExtensionData"/>, which it fills in from the same JSON when first asked:
/// materialising every unmodelled field as a <see cref="JsonElement"/> (a JSON document each) tripled the time and
/// multiplied the allocations of reading a Checkout session, for data that handlers rarely read.
/// </summary>
internal static class StripeJson
{
    /// <summary>
    /// Reads <paramref name="json"/>, which must not change afterwards when <see cref="KeepsJson"/> says the value keeps
    /// referring to it.
    /// </summary>
    /// <exception cref="JsonException">The JSON does not match the type.</exception>
    public static T? Deserialize<T>(ReadOnlyMemory<byte> json, JsonTypeInfo<T> typeInfo)
    {
        if (KeepsJson(typeInfo) && Deferred<T>.TypeInfo is { } withoutExtensionData)
        {
            var value = JsonSerializer.Deserialize(json.Span, withoutExtensionData);
            (value as StripeObject)?.DeferExtensionData(json, typeInfo);
            return value;
        }

        return JsonSerializer.Deserialize(json.Span, typeInfo);
    }

    /// <summary>
    /// Whether a value <see cref="Deserialize"/> reads keeps referring to its JSON: a top-level <see cref="StripeObject"/>
    /// read with the library's contracts does, for its extension data. Any other value holds nothing of the bytes once
    /// read, so they may be a borrowed buffer.
    /// </summary>
    public static bool KeepsJson<T>(JsonTypeInfo<T> typeInfo) =>
        Deferred<T>.TypeInfo is not null && ReferenceEquals(typeInfo.Options, StripeJsonContext.Default.Options);

    /// <summary>The contract of <typeparamref name="T"/> without its extension data, when it is a Stripe object.</summary>
    private static class Deferred<T>
    {
        public static readonly JsonTypeInfo<T>? TypeInfo = typeof(StripeObject).IsAssignableFrom(typeof(T)) ? Create() : null;

        private static JsonTypeInfo<T> Create()
        {
            // Only the top-level type loses its extension data: nested Stripe objects (a subscription's items, say)
            // keep theirs, since their own JSON is not kept.
            var options = new JsonSerializerOptions(StripeJsonContext.Default.Options)
            {
                TypeInfoResolver = StripeJsonContext.Default.WithAddedModifier(static info =>
                {
                    if (info.Type == typeof(T))
                    {
                        for (var i = info.Properties.Count - 1; i >= 0; i--)
                        {
                            if (info.Properties[i].IsExtensionData)
                            {
                                info.Properties.RemoveAt(i);
                            }
                        }
                    }
                }),
            };
            options.MakeReadOnly();
            return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
        }
    }
}
