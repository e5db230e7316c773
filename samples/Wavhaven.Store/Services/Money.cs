using System.Globalization;

namespace Wavhaven.Store.Services;

public static class Money
{
    // Stripe's amounts are in the currency's minor unit: cents for most, the yen itself for zero-decimal
    // currencies, and thousandths for the three-decimal ones (https://docs.stripe.com/currencies).
    private static readonly HashSet<string> ZeroDecimal = new(StringComparer.OrdinalIgnoreCase)
    {
        "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf",
    };

    private static readonly HashSet<string> ThreeDecimal = new(StringComparer.OrdinalIgnoreCase) { "bhd", "jod", "kwd", "omr", "tnd" };

    public static string Format(long amount, string currency = "usd")
    {
        var (divisor, format) = ZeroDecimal.Contains(currency) ? (1m, "0")
            : ThreeDecimal.Contains(currency) ? (1000m, "0.000")
            : (100m, "0.00");
        return (amount / divisor).ToString(format, CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant();
    }
}
