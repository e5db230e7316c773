using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>
/// The subset of Stripe's REST API the emulator serves under <c>/v1/</c>: bearer authentication, Stripe's
/// form encoding, unknown-parameter checks, idempotency keys, Stripe-shaped errors and a <c>Request-Id</c>
/// on every answer.
/// </summary>
internal sealed partial class StripeApi
{
    private readonly EmulatorStore _store;
    private readonly string _secretKey;
    private readonly IdempotencyStore _idempotency = new();
    private readonly List<ApiRoute> _routes = [];

    public StripeApi(EmulatorStore store, string secretKey)
    {
        _store = store;
        _secretKey = secretKey;
        MapCustomers();
        MapCatalog();
        MapCheckout();
        MapPortal();
        MapSubscriptions();
        MapInvoicesAndPayments();
        MapWebhookEndpoints();
        MapEvents();
    }

    private void Map(string method, string template, ObjectSpec parameters, Func<ApiCall, JsonObject> handler) =>
        _routes.Add(new ApiRoute(method, template, parameters, handler));

    /// <summary>Answers one request to <c>/v1/…</c>.</summary>
    public async Task HandleAsync(HttpContext context, string requestId)
    {
        var request = context.Request;
        var method = request.Method.ToUpperInvariant();
        var path = request.Path.Value ?? "/";
        var body = method == "POST" ? await ReadBodyAsync(request).ConfigureAwait(false) : null;
        int status;
        string json;
        var replayed = false;
        try
        {
            Authenticate(request);
            CheckVersion(request);
            var (route, values) = FindRoute(method, path);
            var parameters = FormNode.Parse(method == "POST" ? body : request.QueryString.Value?.TrimStart('?'));
            var idempotencyKey = method == "POST" && request.Headers.TryGetValue("Idempotency-Key", out var keys) ? keys.ToString() : null;
            var fingerprint = idempotencyKey is null ? string.Empty : IdempotencyStore.Fingerprint(body);
            lock (_store.Gate)
            {
                _store.ProcessDue();
                if (idempotencyKey is not null && _idempotency.Find(idempotencyKey, method, path, fingerprint, _store.Now) is { } stored)
                {
                    (status, json, replayed) = (stored.StatusCode, stored.Body, true);
                }
                else
                {
                    route.Parameters.Check(parameters, string.Empty);
                    var call = new ApiCall(parameters, values, requestId, idempotencyKey);
                    var result = route.Handler(call);
                    try
                    {
                        Expand(result, call.Params.Strings("expand"));
                        (status, json) = (200, result.ToJsonString(JsonFormat.Indented));
                    }
                    catch (ApiException exception) when (idempotencyKey is not null)
                    {
                        // The endpoint has run: Stripe keeps its answer under the key, an error too, so a retry replays
                        // it rather than doing the work again.
                        (status, json) = (exception.StatusCode, ErrorBody(exception, requestId).ToJsonString(JsonFormat.Indented));
                    }

                    if (idempotencyKey is not null)
                    {
                        _idempotency.Save(idempotencyKey, method, path, fingerprint, status, json, _store.Now);
                    }
                }
            }

            if (idempotencyKey is not null)
            {
                context.Response.Headers["Idempotency-Key"] = idempotencyKey;
            }
        }
        catch (ApiException exception)
        {
            status = exception.StatusCode;
            json = ErrorBody(exception, requestId).ToJsonString(JsonFormat.Indented);
        }

        if (replayed)
        {
            context.Response.Headers["Idempotent-Replayed"] = "true";
        }

        context.Response.Headers["Stripe-Version"] = StripeApiVersion.Current;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(json, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
    }

    private void Authenticate(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            throw new ApiException(401, "invalid_request_error", "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').");
        }

        const string Bearer = "Bearer ";
        var key = header.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase) ? header[Bearer.Length..].Trim() : null;
        if (key != _secretKey)
        {
            throw new ApiException(401, "invalid_request_error", "Invalid API Key provided: " + Redact(key ?? header) + ". The emulator accepts only the secret key it was started with.", code: "api_key_invalid");
        }
    }

    private static string Redact(string key) => key.Length <= 12 ? new string('*', key.Length) : key[..8] + new string('*', key.Length - 12) + key[^4..];

    private static void CheckVersion(HttpRequest request)
    {
        if (request.Headers.TryGetValue("Stripe-Version", out var version) && version.ToString() is { Length: > 0 } value && value != StripeApiVersion.Current)
        {
            throw ApiException.InvalidRequest($"The emulator speaks only Stripe API version {StripeApiVersion.Current}; this request asked for {value}.", "Stripe-Version");
        }
    }

    private (ApiRoute Route, string[] Values) FindRoute(string method, string path)
    {
        var segments = path.Trim('/').Split('/').Select(Uri.UnescapeDataString).ToArray();
        var pathMatched = false;
        foreach (var route in _routes)
        {
            if (route.TryMatch(segments, out var values))
            {
                if (route.Method == method)
                {
                    return (route, values);
                }

                pathMatched = true;
            }
        }

        throw new ApiException(404, "invalid_request_error", pathMatched
            ? $"Unrecognized request URL ({method}: {path}). This path does not accept {method} requests."
            : $"Unrecognized request URL ({method}: {path}). The emulator serves only the part of Stripe's API that Wavhaven.Payments uses.");
    }

    private static JsonObject ErrorBody(ApiException exception, string requestId)
    {
        var error = new JsonObject
        {
            ["type"] = exception.Type,
            ["message"] = exception.Message,
        };
        if (exception.Param is not null)
        {
            error["param"] = exception.Param;
        }

        if (exception.Code is not null)
        {
            error["code"] = exception.Code;
            error["doc_url"] = "https://stripe.com/docs/error-codes/" + exception.Code.Replace('_', '-');
        }

        error["request_log_url"] = "https://dashboard.stripe.com/test/logs/" + requestId;
        return new JsonObject { ["error"] = error };
    }

    /// <summary>Replaces expandable ids named by <c>expand[]</c> (dotted paths, <c>data.</c> for lists) with their objects.</summary>
    private void Expand(JsonObject result, IReadOnlyList<string> paths)
    {
        for (var i = 0; i < paths.Count; i++)
        {
            ExpandPath(result, paths[i].Split('.'), 0, paths[i], "expand[" + i.ToString(CultureInfo.InvariantCulture) + "]");
        }
    }

    private void ExpandPath(JsonObject target, string[] segments, int index, string path, string param)
    {
        var name = segments[index];
        if (!target.TryGetPropertyValue(name, out var value))
        {
            throw ApiException.InvalidRequest($"This property cannot be expanded ({path}).", param);
        }

        if (index < segments.Length - 1)
        {
            switch (value)
            {
                case JsonObject child:
                    ExpandPath(child, segments, index + 1, path, param);
                    break;
                case JsonArray array:
                    foreach (var element in array.OfType<JsonObject>())
                    {
                        ExpandPath(element, segments, index + 1, path, param);
                    }

                    break;
            }

            return;
        }

        if (value is JsonValue id && id.TryGetValue<string>(out var text))
        {
            var entity = _store.FindAny(text) ?? throw ApiException.InvalidRequest($"This property cannot be expanded ({path}).", param);
            target[name] = entity.ToJson(_store);
        }
        else if (value is JsonArray)
        {
            throw ApiException.InvalidRequest($"This property cannot be expanded ({path}).", param);
        }
    }

    /// <summary>A page of a Stripe list: newest first, <c>limit</c> 1–100 (10 by default), <c>starting_after</c> / <c>ending_before</c>.</summary>
    private static JsonObject Page<T>(ApiCall call, IEnumerable<T> newestFirst, Func<T, string> idOf, Func<T, JsonNode> render, string url)
    {
        var items = newestFirst.ToList();
        var limit = Limit(call);
        var startingAfter = call.Params.String("starting_after");
        var endingBefore = call.Params.String("ending_before");
        IEnumerable<T> page;
        bool hasMore;
        if (startingAfter is not null)
        {
            var at = IndexOf(items, idOf, startingAfter, "starting_after");
            var rest = items.Skip(at + 1).ToList();
            page = rest.Take(limit);
            hasMore = rest.Count > limit;
        }
        else if (endingBefore is not null)
        {
            var at = IndexOf(items, idOf, endingBefore, "ending_before");
            var before = items.Take(at).ToList();
            page = before.Skip(Math.Max(0, before.Count - limit));
            hasMore = before.Count > limit;
        }
        else
        {
            page = items.Take(limit);
            hasMore = items.Count > limit;
        }

        return Json.List(url, page.Select(render), hasMore);
    }

    private static int Limit(ApiCall call)
    {
        var limit = call.Params.Long("limit") ?? 10;
        return limit is < 1 or > 100
            ? throw ApiException.InvalidRequest($"Invalid limit: must be between 1 and 100, got {limit}.", "limit")
            : (int)limit;
    }

    private static int IndexOf<T>(List<T> items, Func<T, string> idOf, string id, string param)
    {
        var index = items.FindIndex(item => idOf(item) == id);
        return index >= 0 ? index : throw ApiException.InvalidRequest($"No such object in this list: '{id}'", param, "resource_missing");
    }

    private static JsonObject EntityPage<T>(ApiCall call, IEnumerable<T> items, string url, EmulatorStore store)
        where T : Entity =>
        Page(call, items.OrderByDescending(item => item.Sequence), item => item.Id, item => item.ToJson(store), url);

    /// <summary>An absolute http(s) URL parameter (a Checkout success URL may hold <c>{CHECKOUT_SESSION_ID}</c>), or <see langword="null"/>.</summary>
    private static string? HttpUrl(Params p, string name)
    {
        var url = p.String(name);
        if (url is not null
            && (!Uri.TryCreate(url.Replace("{CHECKOUT_SESSION_ID}", "x", StringComparison.Ordinal), UriKind.Absolute, out var uri)
                || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
        {
            throw ApiException.InvalidRequest($"Not a valid URL: {url}", p.ParamPath(name), "url_invalid");
        }

        return url;
    }

    // Properties, not fields: the spec fields of the other partial files are initialized first and use these.
    private static (string, ParamSpec) ExpandParam => ("expand", ParamSpec.ListOf(ParamSpec.Scalar));

    private static (string, ParamSpec)[] ListParams =>
    [
        ExpandParam,
        ("limit", ParamSpec.Scalar),
        ("starting_after", ParamSpec.Scalar),
        ("ending_before", ParamSpec.Scalar),
    ];

    /// <summary>Parameters of an endpoint, <c>expand</c> included.</summary>
    private static ObjectSpec Accepts(params (string, ParamSpec)[] fields) => ParamSpec.Object([ExpandParam, .. fields]);

    /// <summary>Parameters of a list endpoint: <c>expand</c>, <c>limit</c>, <c>starting_after</c>, <c>ending_before</c> and the filters.</summary>
    private static ObjectSpec ListAccepts(params string[] filters) =>
        ParamSpec.Object([.. ListParams, .. filters.Select(filter => (filter, ParamSpec.Scalar))]);

    private static ObjectSpec Nothing => Accepts();
}
