using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Wavhaven.Payments.Tests.Support;

/// <summary>One request as it left the client.</summary>
public sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string Path => Uri.AbsolutePath;

    public string Query => Uri.Query.TrimStart('?');

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>
/// Stands in for Stripe behind the real <see cref="HttpClient"/> pipeline: records every request (headers
/// and body as sent) and answers from routes or a queue of scripted responses.
/// </summary>
public sealed class StubStripeHandler : HttpMessageHandler
{
    private readonly ConcurrentQueue<Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>>> _script = new();
    private readonly List<(HttpMethod Method, string Path, Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> Respond)> _routes = [];
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    /// <summary>Answers requests to <paramref name="path"/> (exact, or a prefix ending in '*').</summary>
    public StubStripeHandler On(HttpMethod method, string path, Func<RecordedRequest, HttpResponseMessage> respond) =>
        On(method, path, (request, _) => Task.FromResult(respond(request)));

    /// <summary>Answers requests to <paramref name="path"/> asynchronously (to hold an answer back, say).</summary>
    public StubStripeHandler On(HttpMethod method, string path, Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond)
    {
        lock (_routes)
        {
            _routes.Add((method, path, respond));
        }

        return this;
    }

    public StubStripeHandler OnJson(HttpMethod method, string path, string json, HttpStatusCode status = HttpStatusCode.OK) =>
        On(method, path, _ => Json(json, status));

    /// <summary>Answers the next request, before any route.</summary>
    public StubStripeHandler Then(Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>> respond)
    {
        _script.Enqueue(respond);
        return this;
    }

    public StubStripeHandler Then(HttpResponseMessage response) => Then((_, _) => Task.FromResult(response));

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK, params (string Name, string Value)[] headers)
    {
        var response = new HttpResponseMessage(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            response.Headers.TryAddWithoutValidation(name, value);
        }

        return response;
    }

    public static HttpResponseMessage Error(HttpStatusCode status, string type, string message, string? param = null, string? code = null, string requestId = "req_test123", params (string Name, string Value)[] headers)
    {
        var paramJson = param is null ? "null" : $"\"{param}\"";
        var codeJson = code is null ? "null" : $"\"{code}\"";
        var error = $$"""{"type":"{{type}}","message":"{{message}}","param":{{paramJson}},"code":{{codeJson}},"doc_url":"https://stripe.com/docs/error-codes"}""";
        var response = Json("{\"error\":" + error + "}", status, headers);
        response.Headers.TryAddWithoutValidation("Request-Id", requestId);
        return response;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in request.Headers)
        {
            headers[header.Key] = string.Join(",", header.Value);
        }

        var body = string.Empty;
        if (request.Content is not null)
        {
            foreach (var header in request.Content.Headers)
            {
                headers[header.Key] = string.Join(",", header.Value);
            }

            body = await request.Content.ReadAsStringAsync(cancellationToken);
        }

        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        _requests.Enqueue(recorded);

        if (_script.TryDequeue(out var scripted))
        {
            return await scripted(recorded, cancellationToken);
        }

        Func<RecordedRequest, CancellationToken, Task<HttpResponseMessage>>? route = null;
        lock (_routes)
        {
            foreach (var (method, path, respond) in _routes)
            {
                var matches = path.EndsWith('*') ? recorded.Path.StartsWith(path[..^1], StringComparison.Ordinal) : recorded.Path == path;
                if (method == request.Method && matches)
                {
                    route = respond;
                    break;
                }
            }
        }

        if (route is not null)
        {
            return await route(recorded, cancellationToken);
        }

        return Error(HttpStatusCode.NotFound, "invalid_request_error", $"Unrecognized request URL ({request.Method} {recorded.Path}).");
    }
}
