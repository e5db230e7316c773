using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;

namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// A Stripe event: the envelope read once from the raw body, with <c>data.object</c> kept as JSON and read
/// into a typed object only when asked for.
/// </summary>
/// <remarks>
/// <see cref="RawJson"/>, <see cref="DataObjectJson"/> and <see cref="PreviousAttributesJson"/> point into the
/// body the event was parsed from, without copying it.
/// </remarks>
public sealed class StripeEvent
{
    private readonly ReadOnlyMemory<byte> _dataObject;
    private readonly ReadOnlyMemory<byte>? _previousAttributes;
    private object? _typed;

    private StripeEvent(ReadOnlyMemory<byte> rawJson, string id, string type, ReadOnlyMemory<byte> dataObject, ReadOnlyMemory<byte>? previousAttributes)
    {
        RawJson = rawJson;
        Id = id;
        Type = type;
        _dataObject = dataObject;
        _previousAttributes = previousAttributes;
    }

    /// <summary>Gets the event id (<c>evt_…</c>); Stripe may deliver the same id more than once.</summary>
    public string Id { get; }

    /// <summary>Gets the event type, e.g. <c>checkout.session.completed</c>.</summary>
    public string Type { get; }

    /// <summary>Gets when the event happened.</summary>
    public DateTimeOffset Created { get; private init; }

    /// <summary>Gets whether the event happened in live mode.</summary>
    public bool Livemode { get; private init; }

    /// <summary>Gets the API version <c>data.object</c> is rendered at (the endpoint's version).</summary>
    public string? ApiVersion { get; private init; }

    /// <summary>Gets the connected account the event happened on, for Connect platforms; <see langword="null"/> for the platform's own events.</summary>
    public string? Account { get; private init; }

    /// <summary>Gets how many webhook endpoints have yet to receive the event.</summary>
    public long PendingWebhooks { get; private init; }

    /// <summary>Gets the API request that caused the event (<see langword="null"/> for automatic events).</summary>
    public string? RequestId { get; private init; }

    /// <summary>Gets the idempotency key of the API request that caused the event.</summary>
    public string? RequestIdempotencyKey { get; private init; }

    /// <summary>Gets the whole event as received.</summary>
    public ReadOnlyMemory<byte> RawJson { get; }

    /// <summary>Gets <c>data.object</c> as received.</summary>
    public ReadOnlyMemory<byte> DataObjectJson => _dataObject;

    /// <summary>Gets <c>data.previous_attributes</c> as received (<c>*.updated</c> events).</summary>
    public ReadOnlyMemory<byte>? PreviousAttributesJson => _previousAttributes;

    /// <summary>Gets the type of <c>data.object</c>, e.g. <c>checkout.session</c> or <c>invoice</c>.</summary>
    public string? DataObjectType { get; private init; }

    /// <summary>
    /// Gets what routing a Checkout session's event needs (its id, payment status and fulfillment type), read along
    /// with the envelope so that the session is deserialized only if a handler reads it; <see langword="null"/>
    /// when <c>data.object</c> is not a Checkout session, or has a field of an unexpected shape (then the full
    /// read reports it).
    /// </summary>
    internal CheckoutSessionRoute? CheckoutRoute { get; private init; }

    /// <summary>Gets a copy of <c>data.object</c> as a <see cref="JsonElement"/>.</summary>
    public JsonElement DataObject
    {
        get
        {
            using var document = JsonDocument.Parse(_dataObject);
            return document.RootElement.Clone();
        }
    }

    /// <summary>Gets a copy of <c>data.previous_attributes</c>, or <see langword="null"/>.</summary>
    public JsonElement? PreviousAttributes
    {
        get
        {
            if (_previousAttributes is not { } json)
            {
                return null;
            }

            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
    }

    /// <summary>Reads <c>data.object</c> as a Checkout session.</summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    public StripeCheckoutSession ToCheckoutSession() => Read("checkout.session", StripeJsonContext.Default.StripeCheckoutSession);

    /// <summary>
    /// Gets the routing fields of the Checkout session the event carries: as read with the envelope, or else (an
    /// irregular session) from the session itself.
    /// </summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    internal CheckoutSessionRoute GetCheckoutRoute()
    {
        if (CheckoutRoute is { } route)
        {
            return route;
        }

        var session = ToCheckoutSession();
        return new CheckoutSessionRoute(session.Id, session.PaymentStatus, session.Metadata.GetValueOrDefault(MetadataKeys.FulfillmentType));
    }

    /// <summary>Reads <c>data.object</c> as an invoice.</summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    public StripeInvoice ToInvoice() => Read("invoice", StripeJsonContext.Default.StripeInvoice);

    /// <summary>Reads <c>data.object</c> as a subscription.</summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    public StripeSubscription ToSubscription() => Read("subscription", StripeJsonContext.Default.StripeSubscription);

    /// <summary>Reads <c>data.object</c> as a customer.</summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    public StripeCustomer ToCustomer() => Read("customer", StripeJsonContext.Default.StripeCustomer);

    /// <summary>Reads <c>data.object</c> as a charge.</summary>
    /// <exception cref="InvalidOperationException">The event carries another kind of object.</exception>
    public StripeCharge ToCharge() => Read("charge", StripeJsonContext.Default.StripeCharge);

    /// <inheritdoc />
    public override string ToString() => $"{Type} {Id}";

    /// <summary>
    /// Reads an event envelope from a raw webhook body without copying it: the event refers to
    /// <paramref name="json"/>, which must not change afterwards. Only call this on a body whose signature was
    /// verified.
    /// </summary>
    /// <exception cref="FormatException">The body is not JSON, or not a Stripe event.</exception>
    public static StripeEvent Parse(ReadOnlyMemory<byte> json)
    {
        try
        {
            return ParseCore(json);
        }
        catch (JsonException exception)
        {
            throw new FormatException("The body is not valid JSON: " + exception.Message, exception);
        }
    }

    private T Read<T>(string objectType, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        if (_typed is T cached)
        {
            return cached;
        }

        if (!string.Equals(DataObjectType, objectType, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Event {Id} ({Type}) carries a '{DataObjectType}', not a '{objectType}'.");
        }

        var value = StripeJson.Deserialize(_dataObject, typeInfo)
            ?? throw new InvalidOperationException($"Event {Id} ({Type}) has a null data.object.");
        _typed = value;
        return value;
    }

    private static StripeEvent ParseCore(ReadOnlyMemory<byte> json)
    {
        var reader = new Utf8JsonReader(json.Span, new JsonReaderOptions { MaxDepth = 128 });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("The body is not a JSON object, so it is not a Stripe event.");
        }

        string? id = null, type = null, objectName = null, apiVersion = null, account = null, requestId = null, requestKey = null;
        long created = 0, pendingWebhooks = 0;
        var livemode = false;
        ReadOnlyMemory<byte>? dataObject = null, previousAttributes = null;
        string? dataObjectType = null;
        CheckoutSessionRoute? route = null;

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("id"u8))
            {
                id = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("type"u8))
            {
                type = ReadEventType(ref reader);
            }
            else if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                objectName = reader.TokenType != JsonTokenType.String ? null
                    : reader.ValueTextEquals("event"u8) ? "event" : reader.GetString();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("created"u8))
            {
                reader.Read();
                created = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0;
            }
            else if (reader.ValueTextEquals("livemode"u8))
            {
                reader.Read();
                livemode = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("api_version"u8))
            {
                reader.Read();
                apiVersion = reader.TokenType != JsonTokenType.String ? null
                    : reader.ValueTextEquals(PinnedVersionUtf8) ? StripeApiVersion.Current : reader.GetString();
            }
            else if (reader.ValueTextEquals("account"u8))
            {
                account = ReadString(ref reader);
            }
            else if (reader.ValueTextEquals("pending_webhooks"u8))
            {
                reader.Read();
                pendingWebhooks = reader.TokenType == JsonTokenType.Number ? reader.GetInt64() : 0;
            }
            else if (reader.ValueTextEquals("request"u8))
            {
                reader.Read();
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (reader.ValueTextEquals("id"u8))
                        {
                            requestId = ReadString(ref reader);
                        }
                        else if (reader.ValueTextEquals("idempotency_key"u8))
                        {
                            requestKey = ReadString(ref reader);
                        }
                        else
                        {
                            reader.Read();
                            reader.Skip();
                        }
                    }
                }
                else if (reader.TokenType == JsonTokenType.String)
                {
                    requestId = reader.GetString();
                }
                else
                {
                    reader.Skip();
                }
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new FormatException("The event's data is not an object.");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("object"u8))
                    {
                        dataObject = ReadDataObject(ref reader, json, out dataObjectType, out route);
                    }
                    else if (reader.ValueTextEquals("previous_attributes"u8))
                    {
                        previousAttributes = ReadObjectSlice(ref reader, json);
                    }
                    else
                    {
                        reader.Read();
                        reader.Skip();
                    }
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (objectName is not null && objectName != "event")
        {
            throw new FormatException($"The body is a Stripe '{objectName}', not an event.");
        }

        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(type) || dataObject is null)
        {
            throw new FormatException("The body is not a Stripe event: it needs an id, a type and data.object.");
        }

        return new StripeEvent(json, id, type, dataObject.Value, previousAttributes)
        {
            DataObjectType = dataObjectType,
            CheckoutRoute = route,
            Created = DateTimeOffset.FromUnixTimeSeconds(created),
            Livemode = livemode,
            ApiVersion = apiVersion,
            Account = account,
            PendingWebhooks = pendingWebhooks,
            RequestId = requestId,
            RequestIdempotencyKey = requestKey,
        };
    }

    private static ReadOnlySpan<byte> PinnedVersionUtf8 => "2026-10-28.endive"u8;

    /// <summary>The event types the library handles, as shared strings: reading one does not allocate.</summary>
    private static readonly (string Text, byte[] Utf8)[] KnownTypes = [.. new[]
    {
        "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
        "checkout.session.expired", "customer.subscription.created", "customer.subscription.updated",
        "customer.subscription.deleted", "customer.subscription.trial_will_end", "invoice.paid", "invoice.payment_failed",
    }.Select(text => (text, System.Text.Encoding.UTF8.GetBytes(text)))];

    private static string? ReadEventType(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
        {
            foreach (var (text, utf8) in KnownTypes)
            {
                if (reader.ValueSpan.SequenceEqual(utf8))
                {
                    return text;
                }
            }
        }

        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static string? ReadString(ref Utf8JsonReader reader)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString();
        }

        reader.Skip();
        return null;
    }

    private static ReadOnlyMemory<byte>? ReadObjectSlice(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        return json[start..(int)reader.BytesConsumed];
    }

    /// <summary>
    /// Slices <c>data.object</c> out of the body, and on the way (the same pass that skipping it takes) reads its
    /// <c>object</c>, and for a Checkout session its <c>id</c>, <c>payment_status</c> and <c>metadata.wavhaven_type</c>.
    /// </summary>
    private static ReadOnlyMemory<byte>? ReadDataObject(ref Utf8JsonReader reader, ReadOnlyMemory<byte> json, out string? objectType, out CheckoutSessionRoute? route)
    {
        objectType = null;
        route = null;
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        var start = (int)reader.TokenStartIndex;
        string? id = null, paymentStatus = null, fulfillmentType = null;
        var regular = true;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("object"u8))
            {
                reader.Read();
                objectType = reader.TokenType != JsonTokenType.String ? null
                    : reader.ValueTextEquals("checkout.session"u8) ? CheckoutSessionObject : reader.GetString();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("id"u8))
            {
                reader.Read();
                regular &= reader.TokenType == JsonTokenType.String;
                id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                reader.Skip();
            }
            else if (reader.ValueTextEquals("payment_status"u8))
            {
                reader.Read();
                regular &= reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
                paymentStatus = reader.TokenType != JsonTokenType.String ? null
                    : reader.ValueTextEquals("paid"u8) ? "paid"
                    : reader.ValueTextEquals("unpaid"u8) ? "unpaid"
                    : reader.ValueTextEquals("no_payment_required"u8) ? "no_payment_required"
                    : reader.GetString();
                reader.Skip();
            }
            else if (reader.ValueTextEquals("metadata"u8))
            {
                reader.Read();
                fulfillmentType = null;
                if (reader.TokenType == JsonTokenType.StartObject)
                {
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var isType = reader.ValueTextEquals("wavhaven_type"u8);
                        reader.Read();
                        switch (reader.TokenType)
                        {
                            case JsonTokenType.String:
                                fulfillmentType = isType ? reader.GetString() : fulfillmentType;
                                break;
                            case JsonTokenType.Null:
                                fulfillmentType = isType ? string.Empty : fulfillmentType;
                                break;
                            default:
                                regular = false;
                                reader.Skip();
                                break;
                        }
                    }
                }
                else
                {
                    regular &= reader.TokenType == JsonTokenType.Null;
                    reader.Skip();
                }
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        if (regular && id is not null && ReferenceEquals(objectType, CheckoutSessionObject))
        {
            route = new CheckoutSessionRoute(id, paymentStatus, fulfillmentType);
        }

        return json[start..(int)reader.BytesConsumed];
    }

    private const string CheckoutSessionObject = "checkout.session";
}

/// <summary>The fields of a Checkout session that route its event: read with the envelope, without the session.</summary>
/// <param name="Id">The session's id.</param>
/// <param name="PaymentStatus">Its <c>payment_status</c>.</param>
/// <param name="FulfillmentType">Its <c>metadata.wavhaven_type</c> (empty when null), or <see langword="null"/> when absent.</param>
internal sealed record CheckoutSessionRoute(string Id, string? PaymentStatus, string? FulfillmentType);
