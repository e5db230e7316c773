using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Checkout;

public sealed class CancelledModel(StoreDbContext db, UserManager<StoreUser> users) : PageModel
{
    public Order? Order { get; private set; }

    /// <summary>Shows the order whose public reference Stripe's cancel URL carries (OrderCheckout.StartAsync).</summary>
    public async Task OnGetAsync([FromQuery(Name = "order")] string? reference, CancellationToken cancellationToken)
    {
        var order = reference is null ? null : await db.Orders.AsNoTracking().SingleOrDefaultAsync(order => order.Reference == reference, cancellationToken);

        // A registered user's order is shown to that user only, as only they may check it out (OrderCheckout.StartAsync).
        Order = order?.IsVisibleTo(users.GetUserId(User)) == true ? order : null;
    }
}
