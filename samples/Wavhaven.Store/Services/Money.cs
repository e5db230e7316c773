using System.Globalization;

namespace Wavhaven.Store.Services;

public static class Money
{
    public static string Format(long cents, string currency = "usd") =>
        (cents / 100m).ToString("0.00", CultureInfo.InvariantCulture) + " " + currency.ToUpperInvariant();
}
