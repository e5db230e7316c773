using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Store.Data;
using Wavhaven.Store.Fulfillment;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages;

public sealed class ProModel(IPlanCatalog catalog, ICheckoutService checkout, UserManager<StoreUser> users, StoreDbContext db) : PageModel
{
    public Plan Plan { get; private set; } = null!;

    public void OnGet() => Plan = GetPlan();

    /// <summary>
    /// A registered user subscribes monthly or yearly through Checkout. The user's earlier Pro checkout, if one is still
    /// open, is expired first: paying both would make two subscriptions.
    /// </summary>
    public async Task<IActionResult> OnPostSubscribeAsync(string interval, CancellationToken cancellationToken)
    {
        Plan = GetPlan();
        if (!Enum.TryParse<PriceInterval>(interval, ignoreCase: true, out var priceInterval) || Plan.GetPrice(priceInterval) is null)
        {
            return BadRequest("Choose month or year.");
        }

        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            return Challenge();
        }

        if (await db.ProSubscriptions.FindAsync([user.Id], cancellationToken) is { } current && (current.IsActive || current.IsPastDue))
        {
            // A past_due (or unpaid) subscription is still alive at Stripe, which retries it: a new one would bill twice.
            TempData["Message"] = current.IsActive
                ? "You already have Pro: change or cancel it with Manage billing."
                : "Your last Pro payment did not go through: update your card with Manage billing.";
            return Redirect("/account");
        }

        var site = SiteUrls.BaseOf(Request);
        if (user.ProCheckoutSessionId is { } earlier && await checkout.CompletedBeforeExpiryAsync(earlier, cancellationToken) is { } completed)
        {
            // The user subscribed in another tab a moment ago (or a bank debit is on its way): a second checkout would make
            // a second subscription. Its success page says where it stands.
            return Redirect(EarlierCheckouts.SuccessPage(site, completed.Id).ToString());
        }

        var session = await checkout.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered(user.Id, user.Email, user.DisplayName),
            Lines = [CheckoutLine.ForPlan(Plan.Id, priceInterval)],
            FulfillmentType = ProCheckoutHandler.FulfillmentType,
            Metadata = new Dictionary<string, string> { ["interval"] = priceInterval.ToString().ToLowerInvariant() },
            AllowPromotionCodes = true,
            SuccessUrl = new Uri(site, "checkout/success?session_id={CHECKOUT_SESSION_ID}").ToString(),
            CancelUrl = new Uri(site, "pro").ToString(),
        }, cancellationToken);
        user.ProCheckoutSessionId = session.SessionId;

        // A new stamp makes the save conditional on the user's row being as this request read it: a tab that opened a Pro
        // checkout at the same moment, past the expiry above before either had saved, fails here rather than leave two
        // payable sessions (IdentityUser's ConcurrencyStamp is a concurrency token).
        user.ConcurrencyStamp = Guid.NewGuid().ToString();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            // The other tab saved its session first: close this one, which its buyer has not seen yet.
            await checkout.ExpireCheckoutAsync(session.SessionId, CancellationToken.None);
            TempData["Message"] = "A Pro checkout is already open in another tab: finish it there.";
            return Redirect("/pro");
        }

        return Redirect(session.Url.ToString());
    }

    private Plan GetPlan() => catalog.TryGetPlan("pro", out var plan) ? plan : throw new InvalidOperationException("The catalog has no 'pro' plan.");
}
