using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Testing.Webhooks;

namespace Wavhaven.Payments.Testing.State;

/// <summary>Which API request caused an event: <see langword="null"/> ids for the buyer's and the clock's actions.</summary>
internal readonly record struct RequestInfo(string? Id, string? IdempotencyKey)
{
    public static RequestInfo Automatic => default;
}

/// <summary>An emitted event: the resource's snapshot at emission, and how many endpoints still wait for it.</summary>
internal sealed class EventRecord : Entity
{
    private readonly JsonObject _dataObject;
    private readonly JsonObject? _previousAttributes;
    private readonly RequestInfo _request;
    private int _pendingWebhooks;

    public EventRecord(string id, DateTimeOffset created, string type, JsonObject dataObject, JsonObject? previousAttributes, RequestInfo request, int pendingWebhooks)
        : base(id, created)
    {
        Type = type;
        _dataObject = dataObject;
        _previousAttributes = previousAttributes;
        _request = request;
        _pendingWebhooks = pendingWebhooks;
        Public = new EmulatedEvent(id, type, created, ToJson(StripeApiVersion.Current).ToJsonString(JsonFormat.Indented));
    }

    public override string ObjectName => "event";

    public string Type { get; }

    /// <summary>Gets the public view, with the JSON as rendered at emission.</summary>
    public EmulatedEvent Public { get; }

    public void DeliveryFinished() => Interlocked.Decrement(ref _pendingWebhooks);

    public JsonObject ToJson(string apiVersion) => EventEnvelope.Build(
        Id,
        Type,
        Created,
        apiVersion,
        Volatile.Read(ref _pendingWebhooks),
        _request.Id,
        _request.IdempotencyKey,
        (JsonObject)_dataObject.DeepClone(),
        (JsonObject?)_previousAttributes?.DeepClone());

    public override JsonObject ToJson(EmulatorStore store) => ToJson(StripeApiVersion.Current);
}

/// <summary>How the emulator writes JSON.</summary>
internal static class JsonFormat
{
    public static readonly System.Text.Json.JsonSerializerOptions Indented = new() { WriteIndented = true };
}
