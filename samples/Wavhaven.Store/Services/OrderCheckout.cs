using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Store.Data;

namespace Wavhaven.Store.Services;

/// <summary>Thrown when an order cannot be checked out because it is not CREATED.</summary>
public sealed class OrderNotCheckoutableException(string orderReference, OrderStatus status)
    : Exception($"Order {orderReference} is {status.ToString().ToUpperInvariant()}; only a CREATED order can be checked out.");

/// <summary>Creates orders from the cart and opens their Checkout sessions.</summary>
public sealed class OrderCheckout(StoreDbContext db, ICheckoutService checkout, IPlanCatalog catalog, TimeProvider time)
{
    public const string FulfillmentType = "beat-licenses";

    /// <summary>The session metadata key that names the order: its <see cref="Order.Reference"/>.</summary>
    public const string OrderReferenceKey = "order_ref";

    /// <summary>The Pro plan's grant that takes a percentage off every licence its members buy.</summary>
    public const string LicenceDiscountGrant = "licence-discount-percent";

    /// <summary>The percentage off licences for a user: the Pro plan's grant while their Pro subscription is active, else 0.</summary>
    public async Task<int> LicenceDiscountPercentAsync(string? userId, CancellationToken cancellationToken)
    {
        if (userId is null
            || !catalog.TryGetPlan("pro", out var pro)
            || !pro.Grants.TryGetValue(LicenceDiscountGrant, out var grant)
            || !int.TryParse(grant, NumberStyles.None, CultureInfo.InvariantCulture, out var percent)
            || percent is < 1 or > 100)
        {
            return 0;
        }

        var subscription = await db.ProSubscriptions.AsNoTracking().SingleOrDefaultAsync(row => row.UserId == userId, cancellationToken);
        return subscription?.IsActive == true ? percent : 0;
    }

    /// <summary>A licence price with a percentage off, rounded to the cent.</summary>
    public static long Discounted(long priceCents, int percent) =>
        (long)Math.Round(priceCents * (100 - percent) / 100m, MidpointRounding.AwayFromZero);

    public async Task<Order> CreateOrderAsync(IReadOnlyList<string> beatIds, string? userId, string? guestEmail, CancellationToken cancellationToken)
    {
        var beats = await db.Beats.Where(beat => beatIds.Contains(beat.Id)).ToListAsync(cancellationToken);
        var discount = await LicenceDiscountPercentAsync(userId, cancellationToken);
        var order = new Order
        {
            Reference = Order.NewReference(),
            UserId = userId,
            GuestEmail = userId is null ? guestEmail : null,
            CreatedAt = time.GetUtcNow(),
            Items = [.. beats.Select(beat => new OrderItem { BeatId = beat.Id, Title = beat.Title, PriceCents = Discounted(beat.PriceCents, discount) })],
        };
        db.Orders.Add(order);
        await db.SaveChangesAsync(cancellationToken);
        return order;
    }

    /// <summary>
    /// Opens a Checkout session for a CREATED order, found by its public reference, and returns where to send the buyer:
    /// Stripe Checkout, or, when the order's earlier session was completed meanwhile (paid in another tab), that session's
    /// success page, and no new session.
    /// </summary>
    /// <remarks>
    /// The order's earlier session, if any, is expired first, so that the buyer cannot pay the order in two tabs (a second
    /// tab, "Try paying again" while the first Stripe page is still open). A payment that gets through anyway is recorded
    /// as owed back by <see cref="Fulfillment.LicensePurchaseHandler"/>.
    /// </remarks>
    /// <exception cref="OrderNotCheckoutableException">The order is already paid.</exception>
    /// <exception cref="KeyNotFoundException">There is no such order, or it is another user's.</exception>
    public async Task<Uri> StartAsync(string orderReference, StoreUser? user, Uri siteBase, CancellationToken cancellationToken)
    {
        var order = await db.Orders.Include(o => o.Items).SingleOrDefaultAsync(o => o.Reference == orderReference, cancellationToken);

        // A registered user's order is theirs alone: to anyone else it does not exist. A guest's order is paid by whoever
        // holds its unguessable reference (the guest's own cancel and success pages), and its licences go to the guest's email.
        if (order is null || !order.IsVisibleTo(user?.Id))
        {
            throw new KeyNotFoundException("There is no such order.");
        }

        if (order.Status != OrderStatus.Created)
        {
            throw new OrderNotCheckoutableException(order.Reference, order.Status);
        }

        if (order.CheckoutSessionId is { } earlier && await checkout.CompletedBeforeExpiryAsync(earlier, cancellationToken) is { } completed)
        {
            // The buyer completed the earlier checkout (in another tab) before it could be expired: the order is being
            // paid, and its success page says how far it got.
            return EarlierCheckouts.SuccessPage(siteBase, completed.Id);
        }

        order.CheckoutAttempts++;
        CheckoutBuyer buyer = order.UserId is not null
            ? CheckoutBuyer.Registered(user!.Id, user.Email, user.DisplayName)
            : CheckoutBuyer.Guest(order.GuestEmail!, userId: "order-" + order.Reference);

        var session = await checkout.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = buyer,
            Lines = [.. order.Items.Select(item => CheckoutLine.Item(
                item.Title + " (beat licence)",
                item.PriceCents,
                "usd",
                productMetadata: new Dictionary<string, string> { ["beat_id"] = item.BeatId }))],
            FulfillmentType = FulfillmentType,
            // The order's random reference, not its database id: ids repeat in every database (a staging and a developer's
            // store on one Stripe account, a database recreated or restored), and Stripe keeps a key's answer for 24 hours and
            // sends every event of the account to every endpoint.
            Metadata = new Dictionary<string, string> { [OrderReferenceKey] = order.Reference },
            IdempotencyKey = $"order-{order.Reference}-checkout-{order.CheckoutAttempts}",
            SuccessUrl = new Uri(siteBase, "checkout/success?session_id={CHECKOUT_SESSION_ID}").ToString(),
            CancelUrl = new Uri(siteBase, $"checkout/cancelled?order={order.Reference}").ToString(),
        }, cancellationToken);

        order.CheckoutSessionId = session.SessionId;
        await db.SaveChangesAsync(cancellationToken);
        return session.Url;
    }
}
