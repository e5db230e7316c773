using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Portal;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages.Account;

[Authorize]
public sealed class AccountModel(StoreDbContext db, UserManager<StoreUser> users, IBillingPortalService portal, IPlanCatalog catalog, DownloadLinks links) : PageModel
{
    public DownloadLinks Links => links;

    public ProSubscription? Subscription { get; private set; }

    public IReadOnlyList<License> Licenses { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var userId = users.GetUserId(User)!;
        Subscription = await db.ProSubscriptions.AsNoTracking().SingleOrDefaultAsync(s => s.UserId == userId, cancellationToken);
        Licenses = await db.Licenses.AsNoTracking().Where(l => l.UserId == userId).OrderBy(l => l.BeatTitle).ToListAsync(cancellationToken);
    }

    /// <summary>Opens Stripe's billing portal: cards, invoices, cancellation.</summary>
    public async Task<IActionResult> OnPostBillingAsync(CancellationToken cancellationToken)
    {
        var session = await portal.CreatePortalSessionAsync(new BillingPortalRequest
        {
            UserId = users.GetUserId(User)!,
            ReturnUrl = new Uri(SiteUrls.BaseOf(Request), "account").ToString(),
        }, cancellationToken);
        return Redirect(session.Url.ToString());
    }

    /// <summary>Opens the portal on the confirmation of a switch to the other interval.</summary>
    public async Task<IActionResult> OnPostSwitchAsync(string interval, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<PriceInterval>(interval, ignoreCase: true, out var target) || !catalog.TryGetPlan("pro", out var plan) || plan.GetPrice(target) is not { } price)
        {
            return BadRequest("Choose month or year.");
        }

        var session = await portal.CreatePortalSessionAsync(new BillingPortalRequest
        {
            UserId = users.GetUserId(User)!,
            ReturnUrl = new Uri(SiteUrls.BaseOf(Request), "account").ToString(),
            SwitchToPriceId = price.PriceId,
        }, cancellationToken);
        return Redirect(session.Url.ToString());
    }
}
