namespace Wavhaven.Payments.Checkout;

/// <summary>Stripe's limits on metadata, checked before a request is sent.</summary>
internal static class MetadataRules
{
    /// <summary>Most keys one object's metadata may hold.</summary>
    public const int MaxKeys = 50;

    /// <summary>Longest metadata key.</summary>
    public const int MaxKeyLength = 40;

    /// <summary>Longest metadata value.</summary>
    public const int MaxValueLength = 500;

    /// <summary>Why an empty tenant id is refused: it would be stored as no tenant, and so be another app tenant's key.</summary>
    public const string EmptyTenantMessage = "TenantId is empty or blank: leave it null in a single-tenant app. Stripe drops empty metadata values, so an empty tenant could not be told from none.";

    /// <summary>Whether a tenant id is given but blank: the one rule checkout, the portal and the customer resolver share.</summary>
    public static bool IsBlankTenant(string? tenantId) => tenantId is not null && string.IsNullOrWhiteSpace(tenantId);

    /// <summary>Checks the caller's metadata; <paramref name="reservedKeys"/> are the keys the library adds.</summary>
    public static void Validate(IReadOnlyDictionary<string, string>? metadata, string field, int reservedKeys) =>
        Validate(metadata, field, line: -1, reservedKeys);

    /// <summary>
    /// Checks the metadata of cart line <paramref name="line"/> (or of the request itself when it is -1), whose field is
    /// then <c>Lines[line].field</c>: a name built only for a refusal, not for every line of every valid cart.
    /// </summary>
    public static void Validate(IReadOnlyDictionary<string, string>? metadata, string field, int line, int reservedKeys)
    {
        if (metadata is null)
        {
            return;
        }

        string Field() => line < 0 ? field : $"Lines[{line}].{field}";

        if (metadata.Count + reservedKeys > MaxKeys)
        {
            throw new InvalidPaymentRequestException(Field(), reservedKeys == 0
                ? $"{Field()} has {metadata.Count} keys; Stripe allows at most {MaxKeys}."
                : $"{Field()} has {metadata.Count} keys, and the library adds {reservedKeys} of its own; Stripe allows at most {MaxKeys} in all, so pass at most {MaxKeys - reservedKeys}.");
        }

        foreach (var (key, value) in metadata)
        {
            if (string.IsNullOrEmpty(key))
            {
                throw new InvalidPaymentRequestException(Field(), $"{Field()} has an empty key.");
            }

            if (key.Length > MaxKeyLength)
            {
                throw new InvalidPaymentRequestException($"{Field()}[{key}]", $"{Field()} key '{key}' is {key.Length} characters long; Stripe allows at most {MaxKeyLength}.");
            }

            if (key.Contains('[', StringComparison.Ordinal) || key.Contains(']', StringComparison.Ordinal))
            {
                throw new InvalidPaymentRequestException($"{Field()}[{key}]", $"{Field()} key '{key}' contains a square bracket, which Stripe does not allow in metadata keys.");
            }

            if (key.StartsWith(MetadataKeys.ReservedPrefix, StringComparison.Ordinal))
            {
                throw new InvalidPaymentRequestException($"{Field()}[{key}]", $"{Field()} key '{key}' starts with '{MetadataKeys.ReservedPrefix}', which the library reserves for routing events. Rename the key.");
            }

            if (value is null)
            {
                throw new InvalidPaymentRequestException($"{Field()}[{key}]", $"{Field()} value of '{key}' is null; pass a string (an empty string unsets a key on updates only).");
            }

            if (value.Length > MaxValueLength)
            {
                throw new InvalidPaymentRequestException($"{Field()}[{key}]", $"{Field()} value of '{key}' is {value.Length} characters long; Stripe allows at most {MaxValueLength}.");
            }
        }
    }
}
