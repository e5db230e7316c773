using System.Globalization;

namespace Wavhaven.Payments.Testing.State;

/// <summary>Formats minor-unit amounts for the hosted pages and invoice lines.</summary>
internal static class Money
{
    private static readonly HashSet<string> ZeroDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    };

    /// <summary>Stripe's three-decimal currencies: their minor unit is a thousandth (5120 is 5.120 KWD).</summary>
    private static readonly HashSet<string> ThreeDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bhd", "jod", "kwd", "omr", "tnd",
    };

    /// <summary>
    /// Stripe's minimum charge per settlement currency, in minor units (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts);
    /// a currency not listed here is not checked.
    /// </summary>
    private static readonly Dictionary<string, long> MinimumCharge = new(StringComparer.OrdinalIgnoreCase)
    {
        ["usd"] = 50, ["aed"] = 200, ["aud"] = 50, ["bgn"] = 100, ["brl"] = 50, ["cad"] = 50, ["chf"] = 50, ["czk"] = 1500,
        ["dkk"] = 250, ["eur"] = 50, ["gbp"] = 30, ["hkd"] = 400, ["huf"] = 17500, ["inr"] = 50, ["jpy"] = 50, ["mxn"] = 1000,
        ["myr"] = 200, ["nok"] = 300, ["nzd"] = 50, ["pln"] = 200, ["ron"] = 200, ["sek"] = 300, ["sgd"] = 50, ["thb"] = 1000,
    };

    /// <summary>Stripe's minimum charge in <paramref name="currency"/>, in minor units, or <see langword="null"/> when the emulator does not know it.</summary>
    public static long? Minimum(string currency) => MinimumCharge.TryGetValue(currency, out var minimum) ? minimum : null;

    /// <summary>
    /// Stripe's maximum charge in <paramref name="currency"/>, in minor units: amounts have at most eight digits, twelve for
    /// IDR (docs.stripe.com/currencies#minimum-and-maximum-charge-amounts).
    /// </summary>
    public static long Maximum(string currency) =>
        string.Equals(currency, "idr", StringComparison.OrdinalIgnoreCase) ? 999_999_999_999 : 99_999_999;

    public static string Format(long amount, string currency) =>
        ZeroDecimal.Contains(currency)
            ? amount.ToString("N0", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant()
            : ThreeDecimal.Contains(currency)
                ? (amount / 1000m).ToString("N3", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant()
                : (amount / 100m).ToString("N2", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant();

    public static string Describe(Price price) =>
        price.Interval is null ? Format(price.UnitAmount, price.Currency) : Format(price.UnitAmount, price.Currency) + " / " + price.Interval;
}
