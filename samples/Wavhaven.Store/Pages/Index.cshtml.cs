using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages;

public sealed class IndexModel(StoreDbContext db, Cart cart) : PageModel
{
    public IReadOnlyList<Beat> Beats { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Beats = await db.Beats.OrderBy(beat => beat.Title).ToListAsync(cancellationToken);

    public async Task<IActionResult> OnPostAddAsync(string beatId, CancellationToken cancellationToken)
    {
        if (await db.Beats.AnyAsync(beat => beat.Id == beatId, cancellationToken))
        {
            cart.Add(beatId);
            TempData["Message"] = "Added to your cart.";
        }

        return RedirectToPage();
    }
}
