using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Customers;
using Wavhaven.Payments.Fulfillment;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Subscriptions;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Docs.Tests.Readme;

// The app-side names the README's samples use, as a reader's app would have them. The samples are compiled
// against these and the real packages; nothing here is run.
#pragma warning disable CA1822, CS1998

/// <summary>The variables a README sample may use without declaring them, as a host app's Program.cs would have them.</summary>
public class ReadmeGlobals
{
    public WebApplicationBuilder builder = null!;
    public WebApplication app = null!;
    public ICheckoutService checkout = null!;
    public IBillingPortalService billingPortal = null!;
    public CancellationToken cancellationToken;
    public AppUser user = null!;
    public IEnumerable<PlanOptions> plans = [];
    public CheckoutRequest request = null!;
    public Order order = null!;
    public string subscriptionId = string.Empty;
}

public sealed class AppUser
{
    public string Id { get; set; } = string.Empty;
}

public enum OrderStatus
{
    Created,
    Paid,
}

public sealed record License(string Title, int Quantity);

public sealed class Order
{
    public string Id { get; set; } = string.Empty;

    public OrderStatus Status { get; set; }

    public string? CheckoutSessionId { get; set; }

    public List<License> Licenses { get; } = [];
}

public sealed class Account
{
    public string? UserId { get; set; }

    public string? SubscriptionId { get; set; }

    public DateTimeOffset? SubscriptionCreated { get; set; }

    public string? Plan { get; set; }

    public PriceInterval? PlanInterval { get; set; }

    public DateTimeOffset? RenewsAt { get; set; }
}

public class StoreDbContext(DbContextOptions<StoreDbContext> options) : DbContext(options)
{
    public DbSet<Order> Orders => Set<Order>();

    public DbSet<Account> Accounts => Set<Account>();
}

public interface IEmailSender
{
    Task SendDownloadLinksAsync(string email, Order order, CancellationToken cancellationToken);
}

public sealed class LicensePurchaseHandler : IFulfillmentHandler
{
    public string Type => "license";

    public Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class ProSubscriptionHandler : ISubscriptionHandler
{
    public Task HandleAsync(SubscriptionChange change, CancellationToken cancellationToken) => Task.CompletedTask;
}

public sealed class MyCustomerStore : ICustomerStore
{
    public ValueTask<string?> GetCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default) => ValueTask.FromResult<string?>(null);

    public ValueTask SetCustomerIdAsync(CustomerKey key, string customerId, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

public sealed class MyWebhookEventStore : IWebhookEventStore
{
    public ValueTask<WebhookClaim> TryClaimAsync(string id, string type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(new WebhookClaim(WebhookClaimStatus.Claimed, 1));

    public ValueTask MarkStepCompletedAsync(string id, string step, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask MarkProcessedAsync(string id, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask MarkFailedAsync(string id, string error, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}
