using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Testing.State;
using Wavhaven.Payments.Testing.Webhooks;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Testing;

/// <summary>
/// A Stripe-shaped event for any type and object, with its exact payload, ready to sign: for tests of a
/// webhook endpoint without the emulator.
/// </summary>
/// <example>
/// <code>
/// var evt = StripeTestEvent.Create("checkout.session.completed", session);
/// using var request = evt.CreateRequest(new Uri("/api/webhooks/stripe", UriKind.Relative), "whsec_test", DateTimeOffset.UtcNow);
/// var response = await client.SendAsync(request);
/// </code>
/// </example>
public sealed class StripeTestEvent
{
    private StripeTestEvent(string id, string type, string payload)
    {
        Id = id;
        Type = type;
        Payload = payload;
    }

    /// <summary>Gets the event id.</summary>
    public string Id { get; }

    /// <summary>Gets the event type.</summary>
    public string Type { get; }

    /// <summary>Gets the event's JSON, exactly as it is to be sent and signed.</summary>
    public string Payload { get; }

    /// <summary>Builds an event around <paramref name="dataObject"/> (which is copied, not kept).</summary>
    /// <param name="type">The event type, e.g. <c>invoice.paid</c>.</param>
    /// <param name="dataObject">The resource, as <c>data.object</c>.</param>
    /// <param name="previousAttributes">The old values of changed fields, as <c>data.previous_attributes</c> (for <c>*.updated</c>).</param>
    /// <param name="created">The event's <c>created</c>; the system clock's now when <see langword="null"/>.</param>
    /// <param name="id">The event id; a new <c>evt_…</c> when <see langword="null"/>.</param>
    /// <param name="apiVersion">The event's <c>api_version</c>; <see cref="StripeApiVersion.Current"/> when <see langword="null"/>.</param>
    public static StripeTestEvent Create(
        string type,
        JsonObject dataObject,
        JsonObject? previousAttributes = null,
        DateTimeOffset? created = null,
        string? id = null,
        string? apiVersion = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentNullException.ThrowIfNull(dataObject);
        id ??= Ids.New("evt_");
        var json = EventEnvelope.Build(
            id,
            type,
            created ?? TimeProvider.System.GetUtcNow(),
            apiVersion ?? StripeApiVersion.Current,
            pendingWebhooks: 1,
            requestId: null,
            idempotencyKey: null,
            (JsonObject)dataObject.DeepClone(),
            (JsonObject?)previousAttributes?.DeepClone());
        return new StripeTestEvent(id, type, json.ToJsonString(JsonFormat.Indented));
    }

    /// <summary>Gets the payload's UTF-8 bytes, which the signature covers.</summary>
    public byte[] GetPayloadBytes() => Encoding.UTF8.GetBytes(Payload);

    /// <summary>Signs the payload as Stripe does: the <c>Stripe-Signature</c> header's value.</summary>
    /// <param name="secret">The endpoint's signing secret (<c>whsec_…</c>).</param>
    /// <param name="timestamp">The signing time.</param>
    public string CreateSignatureHeader(string secret, DateTimeOffset timestamp) =>
        StripeWebhookSignature.CreateHeader(GetPayloadBytes(), secret, timestamp);

    /// <summary>Builds the signed POST Stripe would send to a webhook endpoint; the caller disposes it.</summary>
    /// <param name="url">The endpoint (relative URLs suit a test server's client).</param>
    /// <param name="secret">The endpoint's signing secret.</param>
    /// <param name="timestamp">The signing time.</param>
    public HttpRequestMessage CreateRequest(Uri url, string secret, DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(url);
        var payload = GetPayloadBytes();
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(payload) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(StripeWebhookSignature.HeaderName, StripeWebhookSignature.CreateHeader(payload, secret, timestamp));
        return request;
    }
}
