using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;

namespace Wavhaven.Store.Services;

/// <summary>What a download token says, once checked.</summary>
public enum DownloadLinkStatus
{
    Valid,
    Invalid,
    Expired,
}

/// <summary>Signed, expiring download links: the licence id and the expiry, protected by Data Protection.</summary>
public sealed class DownloadLinks(IDataProtectionProvider protection, TimeProvider time, IOptions<StoreSettings> options)
{
    private readonly IDataProtector _protector = protection.CreateProtector("Wavhaven.Store.DownloadLinks.v1");

    public string CreateToken(Guid licenseId) => CreateToken(licenseId, time.GetUtcNow() + options.Value.DownloadLinkLifetime);

    public string CreateToken(Guid licenseId, DateTimeOffset expiresAt) =>
        _protector.Protect(licenseId.ToString("N") + "|" + expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));

    public string CreatePath(Guid licenseId) => "/download/" + CreateToken(licenseId);

    public DownloadLinkStatus Read(string token, out Guid licenseId)
    {
        licenseId = Guid.Empty;
        string payload;
        try
        {
            payload = _protector.Unprotect(token);
        }
        catch (CryptographicException)
        {
            return DownloadLinkStatus.Invalid;
        }

        var parts = payload.Split('|');
        if (parts.Length != 2 || !Guid.TryParseExact(parts[0], "N", out licenseId) || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return DownloadLinkStatus.Invalid;
        }

        return time.GetUtcNow() > DateTimeOffset.FromUnixTimeSeconds(expires) ? DownloadLinkStatus.Expired : DownloadLinkStatus.Valid;
    }
}
