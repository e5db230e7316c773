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

    public static string Format(long amount, string currency) =>
        ZeroDecimal.Contains(currency)
            ? amount.ToString("N0", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant()
            : ThreeDecimal.Contains(currency)
                ? (amount / 1000m).ToString("N3", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant()
                : (amount / 100m).ToString("N2", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant();

    public static string Describe(Price price) =>
        price.Interval is null ? Format(price.UnitAmount, price.Currency) : Format(price.UnitAmount, price.Currency) + " / " + price.Interval;
}
