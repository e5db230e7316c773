using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Checkout;

public sealed class CancelledModel(StoreDbContext db, UserManager<StoreUser> users) : PageModel
{
    public Order? Order { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "order")] int orderId, CancellationToken cancellationToken)
    {
        var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(order => order.Id == orderId, cancellationToken);

        // A registered user's order is shown to that user only, as only they may check it out (OrderCheckout.StartAsync).
        Order = order is { UserId: { } owner } && owner != users.GetUserId(User) ? null : order;
    }
}
