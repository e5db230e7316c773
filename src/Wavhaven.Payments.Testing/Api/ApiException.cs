namespace Wavhaven.Payments.Testing.Api;

/// <summary>A Stripe error answer: <c>{"error": {type, message, param, code}}</c> with an HTTP status.</summary>
internal sealed class ApiException : Exception
{
    public ApiException(int statusCode, string type, string message, string? param = null, string? code = null)
        : base(message)
    {
        StatusCode = statusCode;
        Type = type;
        Param = param;
        Code = code;
    }

    public int StatusCode { get; }

    public string Type { get; }

    public string? Param { get; }

    public string? Code { get; }

    public static ApiException InvalidRequest(string message, string? param = null, string? code = null) =>
        new(400, "invalid_request_error", message, param, code);

    public static ApiException UnknownParameter(string param) =>
        new(400, "invalid_request_error", $"Received unknown parameter: {param}", param, "parameter_unknown");

    public static ApiException Missing(string param) =>
        new(400, "invalid_request_error", $"Missing required param: {param}.", param, "parameter_missing");

    public static ApiException NoSuch(string what, string id, string param) =>
        new(404, "invalid_request_error", $"No such {what}: '{id}'", param, "resource_missing");
}
