using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>One API request, parsed, as a handler sees it.</summary>
internal sealed class ApiCall(FormNode parameters, IReadOnlyList<string> routeValues, string requestId, string? idempotencyKey)
{
    public Params Params { get; } = new(parameters, string.Empty);

    /// <summary>Gets the id in the path (<c>/v1/customers/{id}</c>).</summary>
    public string Id => routeValues[0];

    public RequestInfo Request { get; } = new(requestId, idempotencyKey);
}

/// <summary>An endpoint: method, path template with <c>{id}</c> parts, accepted parameters, handler.</summary>
internal sealed class ApiRoute
{
    private readonly string[] _segments;

    public ApiRoute(string method, string template, ObjectSpec parameters, Func<ApiCall, System.Text.Json.Nodes.JsonObject> handler)
    {
        Method = method;
        _segments = template.Trim('/').Split('/');
        Parameters = parameters;
        Handler = handler;
    }

    public string Method { get; }

    public ObjectSpec Parameters { get; }

    public Func<ApiCall, System.Text.Json.Nodes.JsonObject> Handler { get; }

    public bool TryMatch(string[] segments, out string[] values)
    {
        values = [];
        if (segments.Length != _segments.Length)
        {
            return false;
        }

        var captured = new List<string>();
        for (var i = 0; i < segments.Length; i++)
        {
            if (_segments[i].StartsWith('{'))
            {
                captured.Add(segments[i]);
            }
            else if (!string.Equals(_segments[i], segments[i], StringComparison.Ordinal))
            {
                return false;
            }
        }

        values = [.. captured];
        return true;
    }
}
