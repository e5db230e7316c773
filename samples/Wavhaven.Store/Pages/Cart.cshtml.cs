using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages;

public sealed class CartModel(StoreDbContext db, Cart cart, OrderCheckout orders, UserManager<StoreUser> users) : PageModel
{
    public IReadOnlyList<Beat> Beats { get; private set; } = [];

    /// <summary>Gets the percentage off licences the signed-in user gets (Pro), or 0.</summary>
    public int DiscountPercent { get; private set; }

    /// <summary>A beat's licence price for this buyer.</summary>
    public long PriceOf(Beat beat) => OrderCheckout.Discounted(beat.PriceCents, DiscountPercent);

    [BindProperty]
    [EmailAddress]
    public string? Email { get; set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public IActionResult OnPostRemove(string beatId)
    {
        cart.Remove(beatId);
        return RedirectToPage();
    }

    /// <summary>Creates the order (CREATED) and sends the buyer to Stripe Checkout.</summary>
    public async Task<IActionResult> OnPostCheckoutAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        if (Beats.Count == 0)
        {
            return RedirectToPage();
        }

        var user = await users.GetUserAsync(User);
        if (user is null && string.IsNullOrWhiteSpace(Email))
        {
            ModelState.AddModelError(nameof(Email), "Enter your email: the download links are sent there.");
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        var order = await orders.CreateOrderAsync([.. Beats.Select(b => b.Id)], user?.Id, Email, cancellationToken);
        try
        {
            var checkoutUrl = await orders.StartAsync(order.Reference, user, SiteUrls.BaseOf(Request), cancellationToken);
            cart.Clear();
            return Redirect(checkoutUrl.ToString());
        }
        catch (InvalidPaymentRequestException exception)
        {
            ModelState.AddModelError(string.Empty, exception.Message);
            return Page();
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var ids = cart.BeatIds;
        Beats = await db.Beats.Where(beat => ids.Contains(beat.Id)).OrderBy(beat => beat.Title).ToListAsync(cancellationToken);
        DiscountPercent = await orders.LicenceDiscountPercentAsync(users.GetUserId(User), cancellationToken);
    }
}
