using System.Text.Json.Nodes;

namespace Wavhaven.Payments.Testing.Webhooks;

/// <summary>Builds Stripe's event object around a resource snapshot, for the emulator and for <see cref="StripeTestEvent"/>.</summary>
internal static class EventEnvelope
{
    public static JsonObject Build(
        string id,
        string type,
        DateTimeOffset created,
        string apiVersion,
        long pendingWebhooks,
        string? requestId,
        string? idempotencyKey,
        JsonObject dataObject,
        JsonObject? previousAttributes)
    {
        var data = new JsonObject { ["object"] = dataObject };
        if (previousAttributes is not null)
        {
            data["previous_attributes"] = previousAttributes;
        }

        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "event",
            ["api_version"] = apiVersion,
            ["created"] = created.ToUnixTimeSeconds(),
            ["data"] = data,
            ["livemode"] = false,
            ["pending_webhooks"] = pendingWebhooks,
            ["request"] = new JsonObject { ["id"] = requestId, ["idempotency_key"] = idempotencyKey },
            ["type"] = type,
        };
    }
}
