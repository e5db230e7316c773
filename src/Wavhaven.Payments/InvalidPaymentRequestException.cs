namespace Wavhaven.Payments;

/// <summary>
/// A checkout or portal request was refused before any call to Stripe: the message says what is wrong
/// and <see cref="Field"/> names the field at fault. Nothing was sent and nothing changed.
/// </summary>
public sealed class InvalidPaymentRequestException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="field">The field at fault, e.g. <c>Lines[1].Quantity</c>.</param>
    /// <param name="message">What is wrong and how to fix it.</param>
    public InvalidPaymentRequestException(string field, string message)
        : base(message)
    {
        Field = field;
    }

    /// <summary>Gets the field at fault, e.g. <c>Lines[1].Quantity</c> or <c>Buyer.Email</c>.</summary>
    public string Field { get; }
}
