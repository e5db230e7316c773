namespace Wavhaven.Store.Services;

/// <summary>The store's own settings (<c>Store</c> section).</summary>
public sealed class StoreSettings
{
    /// <summary>Gets or sets how long an emailed download link works.</summary>
    public TimeSpan DownloadLinkLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Gets or sets the public address emailed links start with. When unset, the address of the request being
    /// handled is used (the webhook's or the success page's).
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }
}
