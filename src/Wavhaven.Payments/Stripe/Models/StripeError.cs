namespace Wavhaven.Payments.Stripe;

/// <summary>The body of a Stripe error response: <c>{"error": {...}}</c>.</summary>
internal sealed class StripeErrorResponse
{
    public StripeError? Error { get; set; }
}

/// <summary>The <c>error</c> object of a Stripe error response.</summary>
internal sealed class StripeError
{
    public string? Type { get; set; }

    public string? Message { get; set; }

    public string? Code { get; set; }

    public string? DeclineCode { get; set; }

    public string? Param { get; set; }

    public string? DocUrl { get; set; }
}
