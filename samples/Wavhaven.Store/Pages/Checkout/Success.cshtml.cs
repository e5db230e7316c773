using System.Globalization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Pages.Checkout;

/// <summary>
/// Stripe sends the buyer here after paying. The webhook may not have arrived yet, so the page syncs the
/// session: if it is paid and not yet fulfilled, the fulfillment runs now (once, whoever comes first).
/// </summary>
/// <remarks>
/// The page is reached by the session id, which Stripe makes unguessable; a registered user's order on it is shown to
/// that user only (anyone else is asked to sign in), as on the cancelled page.
/// </remarks>
public sealed class SuccessModel(ICheckoutService checkout, StoreDbContext db, UserManager<StoreUser> users, DemoPages demoPages) : PageModel
{
    public CheckoutSyncStatus Status { get; private set; }

    /// <summary>Gets whether the checkout was for an order of licences (else for Pro).</summary>
    public bool IsOrder { get; private set; }

    /// <summary>Gets the order, when the visitor may see it.</summary>
    public Order? Order { get; private set; }

    /// <summary>Gets the refund owed for this session's payment, when the order had already been paid through another checkout.</summary>
    public OwedRefund? OwedRefund { get; private set; }

    /// <summary>Gets whether the mailbox page exists in this run (see <see cref="DemoPages"/>).</summary>
    public bool HasMailbox => demoPages.Enabled;

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
        if (result.Session.Metadata.TryGetValue(OrderCheckout.OrderReferenceKey, out var reference))
        {
            IsOrder = true;
            var order = await db.Orders.AsNoTracking().SingleOrDefaultAsync(order => order.Reference == reference, cancellationToken);
            if (order?.IsVisibleTo(users.GetUserId(User)) == true)
            {
                Order = order;
                OwedRefund = await db.OwedRefunds.AsNoTracking().SingleOrDefaultAsync(refund => refund.SessionId == result.Session.Id, cancellationToken);
            }
        }

        return Page();
    }
}
