using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Pages.Checkout;

/// <summary>
/// Stripe sends the buyer here after paying. The webhook may not have arrived yet, so the page syncs the
/// session: if it is paid and not yet fulfilled, the fulfillment runs now (once, whoever comes first).
/// </summary>
public sealed class SuccessModel(ICheckoutService checkout, StoreDbContext db) : PageModel
{
    public CheckoutSyncStatus Status { get; private set; }

    public Order? Order { get; private set; }

    public async Task<IActionResult> OnGetAsync([FromQuery(Name = "session_id")] string? sessionId, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(sessionId))
        {
            return BadRequest("The success page needs a session_id.");
        }

        CheckoutSyncResult result;
        try
        {
            result = await checkout.SyncCheckoutAsync(sessionId, cancellationToken);
        }
        catch (StripeApiException exception) when (exception.StatusCode == 404)
        {
            return NotFound("There is no such checkout.");
        }
        catch (ArgumentException exception) when (exception.ParamName == nameof(sessionId))
        {
            return BadRequest("That is not a checkout session id.");
        }

        Status = result.Status;
        if (result.Session.Metadata.TryGetValue("order_id", out var orderId) && int.TryParse(orderId, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            Order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(order => order.Id == id, cancellationToken);
        }

        return Page();
    }
}
