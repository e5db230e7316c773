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
    /// <remarks>
    /// The envelope's own fields, and every other value outside <c>data.object</c> and <c>data.previous_attributes</c>,
    /// are read and checked here; the inside of those two objects is only delimited, and is checked when it is read (<see cref="ToCheckoutSession"/>,
    /// <see cref="DataObject"/>, …), which throws <see cref="JsonException"/> if it is not valid JSON.
    /// </remarks>
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
        catch (InvalidOperationException exception)
        {
            // A string the reader cannot turn into text: an escaped lone surrogate ("\ud800"), which is valid JSON.
            throw new FormatException("The body holds a string that is not valid text: " + exception.Message, exception);
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
        var body = new BodyReader(json.Span);
        if (!body.Reader.Read() || body.Reader.TokenType != JsonTokenType.StartObject)
        {
            throw new FormatException("The body is not a JSON object, so it is not a Stripe event.");
        }

        string? id = null, type = null, objectName = null, apiVersion = null, account = null, requestId = null, requestKey = null;
        long created = 0, pendingWebhooks = 0;
        var livemode = false;
        Range? dataObject = null, previousAttributes = null;
        string? dataObjectType = null;
        CheckoutSessionRoute? route = null;

        while (body.Reader.Read() && body.Reader.TokenType == JsonTokenType.PropertyName)
        {
            if (body.Reader.ValueTextEquals("id"u8))
            {
                id = body.ReadString();
            }
            else if (body.Reader.ValueTextEquals("type"u8))
            {
                type = body.ReadEventType();
            }
            else if (body.Reader.ValueTextEquals("object"u8))
            {
                body.Reader.Read();
                objectName = body.Reader.TokenType != JsonTokenType.String ? null
                    : body.Reader.ValueTextEquals("event"u8) ? "event" : body.Reader.GetString();
                body.Skip();
            }
            else if (body.Reader.ValueTextEquals("created"u8))
            {
                created = body.ReadInt64();
            }
            else if (body.Reader.ValueTextEquals("livemode"u8))
            {
                body.Reader.Read();
                livemode = body.Reader.TokenType == JsonTokenType.True;
                body.Skip();
            }
            else if (body.Reader.ValueTextEquals("api_version"u8))
            {
                body.Reader.Read();
                apiVersion = body.Reader.TokenType != JsonTokenType.String ? null
                    : body.Reader.ValueTextEquals(PinnedVersionUtf8) ? StripeApiVersion.Current : body.Reader.GetString();
                body.Skip();
            }
            else if (body.Reader.ValueTextEquals("account"u8))
            {
                account = body.ReadString();
            }
            else if (body.Reader.ValueTextEquals("pending_webhooks"u8))
            {
                pendingWebhooks = body.ReadInt64();
            }
            else if (body.Reader.ValueTextEquals("request"u8))
            {
                body.Reader.Read();
                if (body.Reader.TokenType == JsonTokenType.StartObject)
                {
                    while (body.Reader.Read() && body.Reader.TokenType == JsonTokenType.PropertyName)
                    {
                        if (body.Reader.ValueTextEquals("id"u8))
                        {
                            requestId = body.ReadString();
                        }
                        else if (body.Reader.ValueTextEquals("idempotency_key"u8))
                        {
                            requestKey = body.ReadString();
                        }
                        else
                        {
                            body.Reader.Read();
                            body.Skip();
                        }
                    }
                }
                else if (body.Reader.TokenType == JsonTokenType.String)
                {
                    requestId = body.Reader.GetString();
                }
                else
                {
                    body.Skip();
                }
            }
            else if (body.Reader.ValueTextEquals("data"u8))
            {
                body.Reader.Read();
                if (body.Reader.TokenType != JsonTokenType.StartObject)
                {
                    throw new FormatException("The event's data is not an object.");
                }

                while (body.Reader.Read() && body.Reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (body.Reader.ValueTextEquals("object"u8))
                    {
                        dataObject = ReadDataObject(ref body, out dataObjectType, out route);
                    }
                    else if (body.Reader.ValueTextEquals("previous_attributes"u8))
                    {
                        previousAttributes = ReadObjectRange(ref body);
                    }
                    else
                    {
                        body.Reader.Read();
                        body.Skip();
                    }
                }
            }
            else
            {
                body.Reader.Read();
                body.Skip();
            }
        }

        if (body.Reader.TokenType != JsonTokenType.EndObject || body.Reader.Read())
        {
            throw new FormatException("The body is not a Stripe event: it does not end where its object ends.");
        }

        if (objectName is not null && objectName != "event")
        {
            throw new FormatException($"The body is a Stripe '{objectName}', not an event.");
        }

        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(type) || dataObject is not { } dataRange)
        {
            throw new FormatException("The body is not a Stripe event: it needs an id, a type and data.object.");
        }

        if (created < MinUnixSeconds || created > MaxUnixSeconds)
        {
            throw new FormatException($"The event's created time, {created}, is not a time: it is out of the range of dates.");
        }

        return new StripeEvent(json, id, type, json[dataRange], previousAttributes is { } previous ? json[previous] : (ReadOnlyMemory<byte>?)null)
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

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>The event types the library handles, as shared strings: reading one does not allocate.</summary>
    private static readonly (string Text, byte[] Utf8)[] KnownTypes = [.. new[]
    {
        "checkout.session.completed", "checkout.session.async_payment_succeeded", "checkout.session.async_payment_failed",
        "checkout.session.expired", "customer.subscription.created", "customer.subscription.updated",
        "customer.subscription.deleted", "customer.subscription.trial_will_end", "invoice.paid", "invoice.payment_failed",
    }.Select(text => (text, System.Text.Encoding.UTF8.GetBytes(text)))];

    private static Range? ReadObjectRange(ref BodyReader body)
    {
        body.Reader.Read();
        if (body.Reader.TokenType != JsonTokenType.StartObject)
        {
            body.Skip(); // never read again, so checked now
            return null;
        }

        var start = body.TokenStart;
        body.SkipUnchecked();
        return start..body.Consumed;
    }

    /// <summary>
    /// Finds <c>data.object</c>'s extent and reads, from its own properties, its <c>object</c>, and for a Checkout
    /// session its <c>id</c>, <c>payment_status</c> and <c>metadata.wavhaven_type</c>, without tokenizing the rest:
    /// one <see cref="JsonBracketScanner"/> pass finds its end and its properties, and only those four values are read.
    /// Everything else is validated when the object is read in full. An object with escapes (rare) is walked with the
    /// reader instead, so that escaped names are still recognised.
    /// </summary>
    private static Range? ReadDataObject(ref BodyReader body, out string? objectType, out CheckoutSessionRoute? route)
    {
        objectType = null;
        route = null;
        body.Reader.Read();
        if (body.Reader.TokenType != JsonTokenType.StartObject)
        {
            body.SkipUnchecked();
            return null;
        }

        var start = body.TokenStart;
        var fields = new RouteFields();
        var keys = new ObjectKeys(stackalloc int[MaxScannedProperties]);
        var close = JsonBracketScanner.ScanObject(body.Json, start, ref keys);
        if (close >= 0 && !keys.SawBackslash && !keys.Overflowed)
        {
            foreach (var colon in keys.Colons[..keys.Count])
            {
                var field = RouteFieldAt(body.Json, start, colon);
                if (field != RouteField.None)
                {
                    var value = new Utf8JsonReader(body.Json[(colon + 1)..close], new JsonReaderOptions { MaxDepth = 128 });
                    fields.Read(ref value, field);
                }
            }

            body.ResumeAt(close);
        }
        else
        {
            while (body.Reader.Read() && body.Reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = body.Reader.ValueTextEquals("object"u8) ? RouteField.Object
                    : body.Reader.ValueTextEquals("id"u8) ? RouteField.Id
                    : body.Reader.ValueTextEquals("payment_status"u8) ? RouteField.PaymentStatus
                    : body.Reader.ValueTextEquals("metadata"u8) ? RouteField.Metadata
                    : RouteField.None;
                if (field == RouteField.None)
                {
                    body.Reader.Read();
                    body.SkipUnchecked();
                }
                else
                {
                    fields.Read(ref body.Reader, field);
                }
            }
        }

        objectType = fields.ObjectType;
        if (fields.Regular && fields.Id is not null && ReferenceEquals(objectType, CheckoutSessionObject))
        {
            route = new CheckoutSessionRoute(fields.Id, fields.PaymentStatus, fields.FulfillmentType);
        }

        return start..body.Consumed;
    }

    /// <summary>More properties than a Stripe object has; past it, the reader walks the object instead.</summary>
    private const int MaxScannedProperties = 256;

    private enum RouteField
    {
        None,
        Object,
        Id,
        PaymentStatus,
        Metadata,
    }

    /// <summary>Which routing field the property whose colon is at <paramref name="colon"/> holds, from its unescaped name.</summary>
    private static RouteField RouteFieldAt(ReadOnlySpan<byte> json, int objectStart, int colon)
    {
        var end = colon - 1;
        while (end > objectStart && json[end] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r')
        {
            end--;
        }

        // json[end] is the name's closing quote; the name is preceded by its opening quote.
        if (end <= objectStart || json[end] != (byte)'"')
        {
            throw new JsonException("A property of data.object has no name.");
        }

        var before = json[(objectStart + 1)..end];
        return before.IsEmpty ? RouteField.None : before[^1] switch
        {
            (byte)'t' when NameIs(before, "object"u8) => RouteField.Object,
            (byte)'d' when NameIs(before, "id"u8) => RouteField.Id,
            (byte)'s' when NameIs(before, "payment_status"u8) => RouteField.PaymentStatus,
            (byte)'a' when NameIs(before, "metadata"u8) => RouteField.Metadata,
            _ => RouteField.None,
        };

        static bool NameIs(ReadOnlySpan<byte> before, ReadOnlySpan<byte> name) =>
            before.Length > name.Length && before.EndsWith(name) && before[^(name.Length + 1)] == (byte)'"';
    }

    /// <summary>The routing fields of <c>data.object</c> as they are read.</summary>
    private struct RouteFields()
    {
        public string? ObjectType;
        public string? Id;
        public string? PaymentStatus;
        public string? FulfillmentType;
        public bool Regular = true;

        /// <summary>Reads one field's value: the reader is before it, and is left on its last token.</summary>
        public void Read(ref Utf8JsonReader reader, RouteField field)
        {
            reader.Read();
            switch (field)
            {
                case RouteField.Object:
                    ObjectType = reader.TokenType != JsonTokenType.String ? null
                        : reader.ValueTextEquals("checkout.session"u8) ? CheckoutSessionObject : reader.GetString();
                    reader.Skip();
                    break;
                case RouteField.Id:
                    Regular &= reader.TokenType == JsonTokenType.String;
                    Id = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                    reader.Skip();
                    break;
                case RouteField.PaymentStatus:
                    Regular &= reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
                    PaymentStatus = reader.TokenType != JsonTokenType.String ? null
                        : reader.ValueTextEquals("paid"u8) ? "paid"
                        : reader.ValueTextEquals("unpaid"u8) ? "unpaid"
                        : reader.ValueTextEquals("no_payment_required"u8) ? "no_payment_required"
                        : reader.GetString();
                    reader.Skip();
                    break;
                case RouteField.Metadata:
                    ReadMetadata(ref reader);
                    break;
            }
        }

        private void ReadMetadata(ref Utf8JsonReader reader)
        {
            FulfillmentType = null;
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                Regular &= reader.TokenType == JsonTokenType.Null;
                reader.Skip();
                return;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isType = reader.ValueTextEquals("wavhaven_type"u8);
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        FulfillmentType = isType ? reader.GetString() : FulfillmentType;
                        break;
                    case JsonTokenType.Null:
                        FulfillmentType = isType ? string.Empty : FulfillmentType;
                        break;
                    default:
                        Regular = false;
                        reader.Skip();
                        break;
                }
            }
        }
    }

    /// <summary>
    /// A <see cref="Utf8JsonReader"/> over the body that can skip a nested value, or the rest of the object it is in,
    /// without tokenizing it: <see cref="JsonBracketScanner"/> finds the closing bracket and the reader resumes there
    /// with its state, so it still checks that the bracket closes the container it opened.
    /// </summary>
    private ref struct BodyReader(ReadOnlySpan<byte> json)
    {
        private int _offset;

        /// <summary>Gets the body.</summary>
        public readonly ReadOnlySpan<byte> Json = json;

        public Utf8JsonReader Reader = new(json, new JsonReaderOptions { MaxDepth = 128 });

        /// <summary>Gets where the current token starts in the body.</summary>
        public readonly int TokenStart => _offset + (int)Reader.TokenStartIndex;

        /// <summary>Gets where the current token ends in the body.</summary>
        public readonly int Consumed => _offset + (int)Reader.BytesConsumed;

        /// <summary>
        /// Moves past the value whose first token is the current one, to its last token, checking that all of it is JSON:
        /// for the envelope's values, which are few and small (its own scalars, <c>request</c>, a field it does not know).
        /// </summary>
        public void Skip() => Reader.Skip();

        /// <summary>
        /// Moves past the value whose first token is the current one, to its last token, without tokenizing it: only its
        /// brackets are matched. For <c>data.object</c> and <c>data.previous_attributes</c>, which are checked when read.
        /// </summary>
        public void SkipUnchecked()
        {
            if (Reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
            {
                ResumeAt(JsonBracketScanner.FindClose(Json, TokenStart, depth: 0));
            }
        }

        public string? ReadString()
        {
            Reader.Read();
            if (Reader.TokenType == JsonTokenType.String)
            {
                return Reader.GetString();
            }

            Skip();
            return null;
        }

        /// <summary>Reads a property's value as a whole number, or 0 when it is not a number (a fraction throws <see cref="FormatException"/>).</summary>
        public long ReadInt64()
        {
            Reader.Read();
            var value = Reader.TokenType == JsonTokenType.Number ? Reader.GetInt64() : 0;
            Skip();
            return value;
        }

        public string? ReadEventType()
        {
            Reader.Read();
            if (Reader.TokenType == JsonTokenType.String && !Reader.ValueIsEscaped)
            {
                foreach (var (text, utf8) in KnownTypes)
                {
                    if (Reader.ValueSpan.SequenceEqual(utf8))
                    {
                        return text;
                    }
                }
            }

            if (Reader.TokenType == JsonTokenType.String)
            {
                return Reader.GetString();
            }

            Skip();
            return null;
        }

        /// <summary>Moves the reader to the closing bracket at <paramref name="close"/> (of the container it is in, or has just opened) and reads it.</summary>
        public void ResumeAt(int close)
        {
            if (close < 0)
            {
                throw new JsonException("An object or array is not closed.");
            }

            Reader = new Utf8JsonReader(Json[close..], isFinalBlock: true, Reader.CurrentState);
            _offset = close;
            Reader.Read();
        }
    }

    private const string CheckoutSessionObject = "checkout.session";
}

/// <summary>The fields of a Checkout session that route its event: read with the envelope, without the session.</summary>
/// <param name="Id">The session's id.</param>
/// <param name="PaymentStatus">Its <c>payment_status</c>.</param>
/// <param name="FulfillmentType">Its <c>metadata.wavhaven_type</c> (empty when null), or <see langword="null"/> when absent.</param>
internal sealed record CheckoutSessionRoute(string Id, string? PaymentStatus, string? FulfillmentType);
