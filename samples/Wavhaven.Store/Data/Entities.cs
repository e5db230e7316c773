using System.Buffers.Text;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;

namespace Wavhaven.Store.Data;

/// <summary>A registered customer of the store.</summary>
public sealed class StoreUser : IdentityUser
{
    public string? DisplayName { get; set; }

    /// <summary>
    /// The Pro Checkout session opened last for the user and not fulfilled yet: expired before another is opened, so
    /// that two Pro checkouts (two tabs) cannot make two subscriptions. Cleared when it is fulfilled.
    /// </summary>
    public string? ProCheckoutSessionId { get; set; }
}

/// <summary>A beat the store sells licences for.</summary>
public sealed class Beat
{
    public required string Id { get; init; }

    public required string Title { get; set; }

    public required string Producer { get; set; }

    public int Bpm { get; set; }

    /// <summary>The licence price in cents.</summary>
    public long PriceCents { get; set; }
}

public enum OrderStatus
{
    /// <summary>Created, not paid. The only status that may be checked out.</summary>
    Created,

    /// <summary>Paid: set by the fulfillment handler only.</summary>
    Paid,
}

/// <summary>An order of beat licences, by a guest (an email) or a registered user.</summary>
public sealed class Order
{
    /// <summary>
    /// The database id: internal (the store's logs). Nothing a buyer reaches by URL takes it, and nothing sent to Stripe: ids
    /// repeat from one database to the next, so the Checkout metadata and idempotency keys name the order by its <see cref="Reference"/>.
    /// </summary>
    public int Id { get; set; }

    /// <summary>
    /// The order's public reference: 128 random bits, base64url (22 characters). A guest's order pages and its
    /// "pay again" form are reached by it, so it must not be guessable or follow from another order's.
    /// </summary>
    public required string Reference { get; init; }

    public string? UserId { get; set; }

    public string? GuestEmail { get; set; }

    public OrderStatus Status { get; set; } = OrderStatus.Created;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>How many checkouts were started for the order; each gets its own idempotency key.</summary>
    public int CheckoutAttempts { get; set; }

    /// <summary>The Checkout session opened last for the order.</summary>
    public string? CheckoutSessionId { get; set; }

    /// <summary>The Checkout session whose payment paid the order; another session's payment for it is owed back.</summary>
    public string? PaidSessionId { get; set; }

    public List<OrderItem> Items { get; set; } = [];

    /// <summary>
    /// Whether the visitor (signed in as <paramref name="userId"/>, or anonymous) may see and pay the order, once they
    /// know its reference: a guest's order to whoever holds the reference, a registered user's order to that user only.
    /// </summary>
    public bool IsVisibleTo(string? userId) => UserId is null || UserId == userId;

    /// <summary>A new public reference, from the system's cryptographic random number generator.</summary>
    public static string NewReference() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
}

public sealed class OrderItem
{
    public int Id { get; set; }

    public int OrderId { get; set; }

    public required string BeatId { get; set; }

    public required string Title { get; set; }

    public long PriceCents { get; set; }
}

/// <summary>The right to download one beat, created when its order is paid.</summary>
public sealed class License
{
    public Guid Id { get; set; }

    public int OrderId { get; set; }

    public required string BeatId { get; set; }

    public required string BeatTitle { get; set; }

    public string? UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>
/// A payment the store took for an order that another checkout had already paid (two tabs, two sessions, both
/// paid): nothing more is delivered, and the money is owed back. The sample records it; refunding is left to you.
/// </summary>
public sealed class OwedRefund
{
    public int Id { get; set; }

    public int OrderId { get; set; }

    /// <summary>The Checkout session that paid a second time.</summary>
    public required string SessionId { get; set; }

    /// <summary>The payment to refund (Stripe's <c>payment_intent</c>), when Stripe said.</summary>
    public string? PaymentIntentId { get; set; }

    public long? AmountCents { get; set; }

    public string? Currency { get; set; }

    public DateTimeOffset RecordedAt { get; set; }
}

/// <summary>An email the store sent; the sample keeps them in a mailbox page instead of sending them.</summary>
public sealed class MailMessage
{
    public int Id { get; set; }

    public required string To { get; set; }

    public required string Subject { get; set; }

    public required string HtmlBody { get; set; }

    public DateTimeOffset SentAt { get; set; }
}

/// <summary>A user's Pro subscription, as the last subscription change left it.</summary>
public sealed class ProSubscription
{
    public required string UserId { get; set; }

    public required string SubscriptionId { get; set; }

    public string? Interval { get; set; }

    public required string Status { get; set; }

    public DateTimeOffset? CurrentPeriodEnd { get; set; }

    public bool CancelAtPeriodEnd { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsActive => Status is "active" or "trialing";

    /// <summary>
    /// Gets whether a renewal failed: the subscription has not ended, Stripe retries it and bills its next periods, so the
    /// member fixes the card in the billing portal rather than subscribe a second time.
    /// </summary>
    public bool IsPastDue => Status is "past_due" or "unpaid";
}
