namespace Wavhaven.Store.Services;

/// <summary>The visitor's cart: the beat ids in a cookie.</summary>
public sealed class Cart(IHttpContextAccessor accessor)
{
    private const string CookieName = "wavhaven-cart";

    public IReadOnlyList<string> BeatIds
    {
        get
        {
            var value = accessor.HttpContext?.Request.Cookies[CookieName];
            return string.IsNullOrEmpty(value) ? [] : value.Split('.', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        }
    }

    public void Add(string beatId) => Save([.. BeatIds.Append(beatId).Distinct(StringComparer.Ordinal)]);

    public void Remove(string beatId) => Save([.. BeatIds.Where(id => id != beatId)]);

    public void Clear() => Save([]);

    private void Save(IReadOnlyList<string> beatIds)
    {
        var response = accessor.HttpContext!.Response;
        if (beatIds.Count == 0)
        {
            response.Cookies.Delete(CookieName);
        }
        else
        {
            response.Cookies.Append(CookieName, string.Join('.', beatIds), new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, IsEssential = true });
        }
    }
}
