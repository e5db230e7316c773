using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Store.Data;
using Wavhaven.Store.Services;

namespace Wavhaven.Store.Fulfillment;

/// <summary>
/// Runs once an order of beat licences is paid (the webhook or the success page, whichever comes first):
/// the order goes CREATED → PAID, its licences are created, and a guest gets an email with signed, expiring
/// download links. A registered buyer finds the licences in their account.
/// </summary>
/// <remarks>
/// The library fulfils each Checkout session once, but an order can have several: a buyer who opens a second tab (or
/// pays again from the cancelled page while the first tab is still open on Stripe) holds two sessions of one CREATED
/// order, and may pay both. The first payment pays the order; a later one delivers nothing more and is recorded as an
/// <see cref="OwedRefund"/>, with a warning in the log, for someone to refund (the sample does not refund).
/// </remarks>
public sealed partial class LicensePurchaseHandler(
    StoreDbContext db,
    IStoreEmailSender email,
    DownloadLinks links,
    IHttpContextAccessor http,
    IOptions<StoreSettings> options,
    TimeProvider time,
    ILogger<LicensePurchaseHandler> logger) : IFulfillmentHandler
{
    public string Type => OrderCheckout.FulfillmentType;

    public async Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken)
    {
        if (!context.Metadata.TryGetValue(OrderCheckout.OrderReferenceKey, out var reference))
        {
            throw new InvalidOperationException($"Checkout session {context.SessionId} has no {OrderCheckout.OrderReferenceKey} in its metadata.");
        }

        var order = await db.Orders.Include(o => o.Items).SingleOrDefaultAsync(o => o.Reference == reference, cancellationToken);
        if (order is null)
        {
            // Another database's order (a second store on the same Stripe account, or this store's before its database was
            // recreated): Stripe sends every event of the account to every endpoint. Nothing here was paid.
            Log.NotOurs(logger, context.SessionId);
            return;
        }

        var now = time.GetUtcNow();
        if (order.Status == OrderStatus.Paid)
        {
            if (order.PaidSessionId != context.SessionId && !await db.OwedRefunds.AnyAsync(refund => refund.SessionId == context.SessionId, cancellationToken))
            {
                var session = context.Session;
                db.OwedRefunds.Add(new OwedRefund
                {
                    OrderId = order.Id,
                    SessionId = context.SessionId,
                    PaymentIntentId = session.PaymentIntent,
                    AmountCents = session.AmountTotal,
                    Currency = session.Currency,
                    RecordedAt = now,
                });
                await db.SaveChangesAsync(cancellationToken);
                Log.PaidTwice(logger, order.Id, context.SessionId, order.PaidSessionId, session.PaymentIntent, session.AmountTotal, session.Currency);
            }

            return;
        }

        order.Status = OrderStatus.Paid;
        order.PaidAt = now;
        order.PaidSessionId = context.SessionId;
        var licenses = order.Items.Select(item => new License
        {
            Id = Guid.NewGuid(),
            OrderId = order.Id,
            BeatId = item.BeatId,
            BeatTitle = item.Title,
            UserId = order.UserId,
            CreatedAt = now,
        }).ToList();
        db.Licenses.AddRange(licenses);

        if (context.IsGuest)
        {
            var to = context.Email ?? order.GuestEmail!;
            await email.SendAsync(to, $"Your beats from Wavhaven (order {order.Reference})", DownloadEmail(order, licenses), cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        Log.OrderPaid(logger, order.Id, licenses.Count, context.IsGuest ? "guest" : "registered");
    }

    private string DownloadEmail(Order order, List<License> licenses)
    {
        var baseUrl = options.Value.PublicBaseUrl
            ?? (http.HttpContext is { } context ? SiteUrls.BaseOf(context.Request) : new Uri("http://localhost:5080/"));
        var lifetime = options.Value.DownloadLinkLifetime;
        var html = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"<p>Thanks for your order {order.Reference}. Your licences are ready:</p><ul>");
        foreach (var license in licenses)
        {
            var url = new Uri(baseUrl, links.CreatePath(license.Id).TrimStart('/'));
            html.Append(CultureInfo.InvariantCulture, $"<li><a class=\"download\" href=\"{WebUtility.HtmlEncode(url.ToString())}\">{WebUtility.HtmlEncode(license.BeatTitle)}</a></li>");
        }

        return html.Append(CultureInfo.InvariantCulture, $"</ul><p>The links work for {lifetime.TotalDays:0} days.</p>").ToString();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Order {OrderId} paid: {LicenseCount} licence(s) for a {BuyerKind} buyer")]
        public static partial void OrderPaid(ILogger logger, int orderId, int licenseCount, string buyerKind);

        [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Checkout session {SessionId} names an order this store does not have: not fulfilled")]
        public static partial void NotOurs(ILogger logger, string sessionId);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
            Message = "Order {OrderId} was paid again by checkout session {SessionId} after session {PaidSessionId} had paid it: nothing more was delivered, and payment {PaymentIntentId} ({AmountCents} {Currency}) is owed a refund")]
        public static partial void PaidTwice(ILogger logger, int orderId, string sessionId, string? paidSessionId, string? paymentIntentId, long? amountCents, string? currency);
    }
}
