using Wavhaven.Payments.Stripe;

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

    /// <summary>
    /// Longest tenant id: less than Stripe's 500 for a metadata value, because it is a key of the durable customer map
    /// (<c>wavhaven_customers.tenant_id</c>, 255 wide), where a longer one would fail every registered checkout of the
    /// tenant after Stripe had created the customer.
    /// </summary>
    public const int MaxTenantIdLength = 255;

    /// <summary>
    /// Longest user id the customer resolver takes: the other half of the durable customer map's key
    /// (<c>wavhaven_customers.user_id</c>, 255 wide). Checkout's own limit is lower (Stripe's 200 for <c>client_reference_id</c>).
    /// </summary>
    public const int MaxUserIdLength = 255;

    /// <summary>
    /// What is wrong with a tenant id, or <see langword="null"/> when nothing is (or there is none): the one rule that
    /// checkout, the portal and the customer resolver share, each refusing in its own way. An empty or blank one would be
    /// stored as no tenant (Stripe drops empty metadata values), and so be another app tenant's key.
    /// </summary>
    public static string? TenantProblem(string? tenantId) => tenantId switch
    {
        null => null,
        _ when string.IsNullOrWhiteSpace(tenantId) => "TenantId is empty or blank: leave it null in a single-tenant app. Stripe drops empty metadata values, so an empty tenant could not be told from none.",
        { Length: > MaxTenantIdLength } => $"TenantId is {tenantId.Length} characters long; at most {MaxTenantIdLength} are allowed (it keys the durable customer map).",
        _ when !StripeText.IsWellFormed(tenantId) => "TenantId " + StripeText.IllFormedProblem,
        _ => null,
    };

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

        if (metadata.Count + reservedKeys > MaxKeys)
        {
            var name = FieldName(field, line);
            throw new InvalidPaymentRequestException(name, reservedKeys == 0
                ? $"{name} has {metadata.Count} keys; Stripe allows at most {MaxKeys}."
                : $"{name} has {metadata.Count} keys, and the library adds {reservedKeys} of its own; Stripe allows at most {MaxKeys} in all, so pass at most {MaxKeys - reservedKeys}.");
        }

        if (metadata is Dictionary<string, string> dictionary)
        {
            // The common case, enumerated without boxing its enumerator (a checkout checks one metadata per line).
            foreach (var (key, value) in dictionary)
            {
                ValidatePair(key, value, field, line);
            }
        }
        else
        {
            foreach (var (key, value) in metadata)
            {
                ValidatePair(key, value, field, line);
            }
        }
    }

    private static void ValidatePair(string key, string? value, string field, int line)
    {
        if (string.IsNullOrEmpty(key))
        {
            var name = FieldName(field, line);
            throw new InvalidPaymentRequestException(name, $"{name} has an empty key.");
        }

        if (key.Length > MaxKeyLength)
        {
            throw Refuse(field, line, key, $"key '{key}' is {key.Length} characters long; Stripe allows at most {MaxKeyLength}.");
        }

        if (key.Contains('[', StringComparison.Ordinal) || key.Contains(']', StringComparison.Ordinal))
        {
            throw Refuse(field, line, key, $"key '{key}' contains a square bracket, which Stripe does not allow in metadata keys.");
        }

        if (!StripeText.IsWellFormed(key))
        {
            throw Refuse(field, line, key, $"key '{key}' {StripeText.IllFormedProblem}");
        }

        if (key.StartsWith(MetadataKeys.ReservedPrefix, StringComparison.Ordinal))
        {
            throw Refuse(field, line, key, $"key '{key}' starts with '{MetadataKeys.ReservedPrefix}', which the library reserves for routing events. Rename the key.");
        }

        if (value is null)
        {
            throw Refuse(field, line, key, $"value of '{key}' is null; pass a non-empty string, or leave the key out.");
        }

        if (value.Length == 0)
        {
            throw Refuse(field, line, key, $"value of '{key}' is empty. Stripe reads an empty metadata value as \"unset this key\", so the key would never be stored: leave it out, or give it a value.");
        }

        if (value.Length > MaxValueLength)
        {
            throw Refuse(field, line, key, $"value of '{key}' is {value.Length} characters long; Stripe allows at most {MaxValueLength}.");
        }

        if (!StripeText.IsWellFormed(value))
        {
            throw Refuse(field, line, key, $"value of '{key}' {StripeText.IllFormedProblem}");
        }
    }

    /// <summary>A refusal of one key's entry: the parameter is <c>field[key]</c>, the message starts with the field's name.</summary>
    private static InvalidPaymentRequestException Refuse(string field, int line, string key, string problem)
    {
        var name = FieldName(field, line);
        return new InvalidPaymentRequestException($"{name}[{key}]", $"{name} {problem}");
    }

    /// <summary>The field's name in a refusal: <c>Lines[line].field</c> for a cart line's, <paramref name="field"/> for the request's.</summary>
    private static string FieldName(string field, int line) => line < 0 ? field : $"Lines[{line}].{field}";
}
