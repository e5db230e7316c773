namespace Wavhaven.Payments.Stripe;

/// <summary>Whether the app's text can reach Stripe as it was given: in a form field, or as a header value.</summary>
internal static class StripeText
{
    /// <summary>What a refusal says after the field's name.</summary>
    public const string IllFormedProblem = "holds an unpaired UTF-16 surrogate (a string cut inside an emoji, say). UTF-8 cannot carry it, so Stripe would store U+FFFD in its place: pass the whole character or none of it.";

    /// <summary>
    /// Whether <paramref name="value"/> (if any) is well-formed UTF-16: every surrogate in a high-low pair. A lone one has
    /// no UTF-8 encoding; sent anyway it would become U+FFFD, so two different ids could arrive as one.
    /// </summary>
    public static bool IsWellFormed(string? value)
    {
        if (value is null)
        {
            return true;
        }

        var text = value.AsSpan();
        var i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        while (i >= 0)
        {
            if (!char.IsHighSurrogate(text[i]) || i + 1 == text.Length || !char.IsLowSurrogate(text[i + 1]))
            {
                return false;
            }

            text = text[(i + 2)..];
            i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        }

        return true;
    }

    /// <summary>
    /// Whether <paramref name="value"/> (if any) can be sent as a header value as it is: visible ASCII only. Headers are added
    /// without validation, so a line break would end the header and start another of the caller's choosing, and a
    /// non-ASCII character would fail the send in a way that looks like a network failure.
    /// </summary>
    public static bool IsHeaderSafe(string? value) => value is null || !value.AsSpan().ContainsAnyExceptInRange('!', '~');
}
