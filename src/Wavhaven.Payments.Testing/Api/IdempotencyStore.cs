namespace Wavhaven.Payments.Testing.Api;

/// <summary>
/// Stripe's idempotency: the first successful result of a key is stored and replayed for the same endpoint
/// and parameters; the same key with other parameters or another endpoint is an <c>idempotency_error</c>.
/// Requests refused before they ran (bad parameters) store nothing, as at Stripe. A key is kept for 24 hours of the
/// emulator's clock, after which Stripe may prune it: the same key then starts a new request.
/// </summary>
internal sealed class IdempotencyStore
{
    public const int MaxKeyLength = 255;

    /// <summary>How long a key is kept: Stripe prunes keys once they are at least 24 hours old.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Finds the stored result for the key, or throws when the key was used for another request.</summary>
    public Entry? Find(string key, string method, string path, string fingerprint, DateTimeOffset now)
    {
        if (key.Length > MaxKeyLength)
        {
            throw ApiException.InvalidRequest($"Idempotency-Key must be at most {MaxKeyLength} characters long; this one is {key.Length}.", "Idempotency-Key");
        }

        if (!_entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (now - entry.SavedAt >= Lifetime)
        {
            _entries.Remove(key);
            return null;
        }

        if (entry.Method != method || entry.Path != path)
        {
            throw new ApiException(400, "idempotency_error", $"Keys for idempotent requests can only be used for the same endpoint they were first used for ('{entry.Method} {entry.Path}' vs '{method} {path}'). Try using a key other than '{key}' if you meant to execute a different request.");
        }

        if (entry.Fingerprint != fingerprint)
        {
            throw new ApiException(400, "idempotency_error", $"Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '{key}' if you meant to execute a different request.");
        }

        return entry;
    }

    public void Save(string key, string method, string path, string fingerprint, int statusCode, string body, DateTimeOffset now) =>
        _entries[key] = new Entry(method, path, fingerprint, statusCode, body, now);

    /// <summary>
    /// The parameters, names and values each decoded and encoded again the same way, then sorted, so that neither the
    /// order of the pairs nor their encoding matters (and an encoded <c>&amp;</c> in a value stays part of it).
    /// </summary>
    public static string Fingerprint(string? body) =>
        string.Join('&', (body ?? string.Empty)
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(parts => Normalize(parts[0]) + (parts.Length == 2 ? "=" + Normalize(parts[1]) : string.Empty))
            .Order(StringComparer.Ordinal));

    private static string Normalize(string encoded) => Uri.EscapeDataString(Uri.UnescapeDataString(encoded.Replace('+', ' ')));

    internal sealed record Entry(string Method, string Path, string Fingerprint, int StatusCode, string Body, DateTimeOffset SavedAt);
}
