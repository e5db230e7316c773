using System.Text.Json.Nodes;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>Webhook endpoints and events.</summary>
internal sealed partial class StripeApi
{
    private void MapWebhookEndpoints()
    {
        Map("POST", "/v1/webhook_endpoints", Accepts(
            ("url", ParamSpec.Scalar),
            ("enabled_events", ParamSpec.ListOf(ParamSpec.Scalar)),
            ("api_version", ParamSpec.Scalar),
            ("description", ParamSpec.Scalar),
            ("metadata", ParamSpec.Map),
            ("connect", ParamSpec.Unsupported)), CreateWebhookEndpoint);
        Map("GET", "/v1/webhook_endpoints", ListAccepts(), call =>
            EntityPage(call, _store.All<WebhookEndpoint>().Where(endpoint => !endpoint.Deleted), "/v1/webhook_endpoints", _store));
        Map("GET", "/v1/webhook_endpoints/{id}", Nothing, call => LiveEndpoint(call.Id).ToJson(_store));
        Map("DELETE", "/v1/webhook_endpoints/{id}", Nothing, call =>
        {
            var endpoint = LiveEndpoint(call.Id);
            endpoint.Deleted = true;
            return new JsonObject { ["id"] = endpoint.Id, ["object"] = endpoint.ObjectName, ["deleted"] = true };
        });
    }

    private void MapEvents()
    {
        Map("GET", "/v1/events/{id}", Nothing, call => _store.Get<EventRecord>(call.Id, "event", "id").ToJson(_store));
        Map("GET", "/v1/events", Accepts([.. ListParams.Skip(1), ("type", ParamSpec.Scalar), ("types", ParamSpec.ListOf(ParamSpec.Scalar))]), call =>
        {
            var type = call.Params.String("type");
            var types = call.Params.Strings("types");
            var events = _store.Events.Where(record =>
                (type is null || TypeMatches(type, record.Type))
                && (types.Count == 0 || types.Any(pattern => TypeMatches(pattern, record.Type))));
            return EntityPage(call, events, "/v1/events", _store);
        });
    }

    private static bool TypeMatches(string pattern, string type) =>
        pattern.EndsWith(".*", StringComparison.Ordinal)
            ? type.StartsWith(pattern[..^1], StringComparison.Ordinal)
            : string.Equals(pattern, type, StringComparison.Ordinal);

    private WebhookEndpoint LiveEndpoint(string id) =>
        _store.Find<WebhookEndpoint>(id) is { Deleted: false } endpoint ? endpoint : throw ApiException.NoSuch("webhook_endpoint", id, "id");

    private JsonObject CreateWebhookEndpoint(ApiCall call)
    {
        var p = call.Params;
        var uri = new Uri(HttpUrl(p, "url") ?? throw ApiException.Missing("url"));

        var enabledEvents = p.Strings("enabled_events");
        if (enabledEvents.Count == 0)
        {
            throw ApiException.Missing("enabled_events");
        }

        // Events to this endpoint carry its api_version; their data keeps the pinned version's shapes, the only
        // ones the emulator knows, which lets a test see what an app does with an endpoint at another version. Without
        // one it follows the account's default version, and reads null as at Stripe (its events carry the pinned
        // version, the emulated account's default).
        var apiVersion = p.String("api_version");
        var endpoint = _store.AddWebhookEndpoint(uri, null, enabledEvents, apiVersion ?? StripeApiVersion.Current, p.String("description"), p.Metadata("metadata"));
        endpoint.FollowsAccountDefault = apiVersion is null;
        var json = endpoint.ToJson(_store);
        json["secret"] = endpoint.Secret;
        return json;
    }
}
