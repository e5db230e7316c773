namespace Wavhaven.Payments.Stripe;

/// <summary>The base of every failure of a call to Stripe's API.</summary>
public abstract class StripeException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    protected StripeException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the HTTP method of the failed call, e.g. <c>POST</c>.</summary>
    public required string Method { get; init; }

    /// <summary>Gets the API path of the failed call, e.g. <c>/v1/checkout/sessions</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the idempotency key the request carried, if it was a POST.</summary>
    public string? IdempotencyKey { get; init; }
}

/// <summary>
/// Stripe answered with an error, or with an answer that cannot be read (then <see cref="Exception.InnerException"/>
/// says why, and a POST can be sent again with <see cref="StripeException.IdempotencyKey"/> to get Stripe's answer).
/// Carries everything Stripe said about it; the message never contains the request's parameters or the API key.
/// </summary>
public sealed class StripeApiException : StripeException
{
    /// <summary>Initializes a new instance.</summary>
    public StripeApiException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance that wraps the failure to read Stripe's answer.</summary>
    public StripeApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the HTTP status Stripe answered with.</summary>
    public required int StatusCode { get; init; }

    /// <summary>Gets the error type: <c>api_error</c>, <c>card_error</c>, <c>idempotency_error</c> or <c>invalid_request_error</c>.</summary>
    public string? Type { get; init; }

    /// <summary>Gets the error code, e.g. <c>resource_missing</c> or <c>card_declined</c>.</summary>
    public string? Code { get; init; }

    /// <summary>Gets the card issuer's reason for a decline, e.g. <c>insufficient_funds</c>.</summary>
    public string? DeclineCode { get; init; }

    /// <summary>Gets the parameter at fault, in bracket form (<c>line_items[0][price]</c>).</summary>
    public string? Param { get; init; }

    /// <summary>
    /// Gets Stripe's own human-readable message. About a parameter it can quote the value sent (a buyer's email), so
    /// <see cref="Exception.Message"/> repeats it only when <see cref="Param"/> is null; log this one with that in mind.
    /// </summary>
    public string? StripeMessage { get; init; }

    /// <summary>Gets Stripe's request id (the <c>Request-Id</c> header), to quote to Stripe support.</summary>
    public string? RequestId { get; init; }

    /// <summary>Gets the link to Stripe's documentation of the error code.</summary>
    public string? DocUrl { get; init; }
}

/// <summary>Stripe could not be reached, or did not answer in time, on every attempt.</summary>
public sealed class StripeConnectionException : StripeException
{
    /// <summary>Initializes a new instance.</summary>
    public StripeConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets whether the last attempt failed by timing out (rather than by a network error).</summary>
    public required bool IsTimeout { get; init; }

    /// <summary>Gets how many attempts were made.</summary>
    public required int Attempts { get; init; }
}
