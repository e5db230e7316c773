namespace Wavhaven.Store.Services;

/// <summary>The site's absolute base URL, from the current request (for Stripe's success and cancel URLs and emailed links).</summary>
public static class SiteUrls
{
    public static Uri BaseOf(HttpRequest request) => new($"{request.Scheme}://{request.Host}{request.PathBase}/");
}
