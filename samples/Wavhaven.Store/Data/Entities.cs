using Microsoft.AspNetCore.Identity;

namespace Wavhaven.Store.Data;

/// <summary>A registered customer of the store.</summary>
public sealed class StoreUser : IdentityUser
{
    public string? DisplayName { get; set; }
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
    public int Id { get; set; }

    public string? UserId { get; set; }

    public string? GuestEmail { get; set; }

    public OrderStatus Status { get; set; } = OrderStatus.Created;

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? PaidAt { get; set; }

    /// <summary>How many checkouts were started for the order; each gets its own idempotency key.</summary>
    public int CheckoutAttempts { get; set; }

    public string? CheckoutSessionId { get; set; }

    public List<OrderItem> Items { get; set; } = [];
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
}
