using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Checkout;

public sealed class CancelledModel(StoreDbContext db) : PageModel
{
    public Order? Order { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "order")] int orderId, CancellationToken cancellationToken) =>
        Order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(order => order.Id == orderId, cancellationToken);
}
