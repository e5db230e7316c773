using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Fulfillment;

/// <summary>Everything a fulfillment handler needs to know about a purchase.</summary>
public sealed class FulfillmentContext
{
    private readonly Func<CancellationToken, Task<IReadOnlyList<StripeLineItem>>> _loadLineItems;
    private Task<IReadOnlyList<StripeLineItem>>? _lineItems;

    internal FulfillmentContext(StripeCheckoutSession session, StripeEvent? stripeEvent, string? account, Func<CancellationToken, Task<IReadOnlyList<StripeLineItem>>> loadLineItems)
    {
        Session = session;
        Event = stripeEvent;
        Account = account;
        _loadLineItems = loadLineItems;
        FulfillmentType = session.Metadata.GetValueOrDefault(MetadataKeys.FulfillmentType) ?? string.Empty;
        UserId = session.ClientReferenceId ?? session.Metadata.GetValueOrDefault(MetadataKeys.UserId);
        TenantId = session.Metadata.GetValueOrDefault(MetadataKeys.TenantId);
        IsGuest = session.Metadata.TryGetValue(MetadataKeys.Buyer, out var buyer) ? buyer == "guest" : session.Customer is null;
        Email = session.CustomerDetails?.Email ?? session.CustomerEmail;
    }

    /// <summary>Gets the Checkout session, as the event (or the success page's sync) saw it.</summary>
    public StripeCheckoutSession Session { get; }

    /// <summary>Gets the event that triggered the fulfillment; <see langword="null"/> when the success page's sync did.</summary>
    public StripeEvent? Event { get; }

    /// <summary>Gets the connected account the purchase happened on (Connect platforms), or <see langword="null"/>.</summary>
    public string? Account { get; }

    /// <summary>Gets the session's id.</summary>
    public string SessionId => Session.Id;

    /// <summary>Gets the fulfillment type the checkout was created with.</summary>
    public string FulfillmentType { get; }

    /// <summary>Gets the app's user id of the buyer (the session's <c>client_reference_id</c>).</summary>
    public string? UserId { get; }

    /// <summary>Gets whether the buyer checked out as a guest.</summary>
    public bool IsGuest { get; }

    /// <summary>Gets the buyer's email: what they entered on Checkout, else what the session was created with.</summary>
    public string? Email { get; }

    /// <summary>Gets the Stripe customer id (registered buyers; guests may have none).</summary>
    public string? CustomerId => Session.Customer;

    /// <summary>Gets the app's tenant id the checkout was created with, or <see langword="null"/>.</summary>
    public string? TenantId { get; }

    /// <summary>Gets the session's metadata: the app's own keys and the library's <c>wavhaven_</c> keys.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Session.Metadata;

    /// <summary>Fetches the purchase's line items from Stripe (once; later calls reuse the answer).</summary>
    public Task<IReadOnlyList<StripeLineItem>> GetLineItemsAsync(CancellationToken cancellationToken = default) =>
        _lineItems is { IsFaulted: false, IsCanceled: false } loaded ? loaded : _lineItems = _loadLineItems(cancellationToken);
}
