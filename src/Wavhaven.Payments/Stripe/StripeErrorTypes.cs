namespace Wavhaven.Payments.Stripe;

/// <summary>The values of <see cref="StripeApiException.Type"/>.</summary>
public static class StripeErrorTypes
{
    /// <summary>Something went wrong on Stripe's side.</summary>
    public const string ApiError = "api_error";

    /// <summary>The card could not be charged.</summary>
    public const string CardError = "card_error";

    /// <summary>An idempotency key was reused with other parameters.</summary>
    public const string IdempotencyError = "idempotency_error";

    /// <summary>The request had invalid parameters.</summary>
    public const string InvalidRequestError = "invalid_request_error";
}
