using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Fulfillment;

/// <summary>Everything a fulfillment handler needs to know about a purchase.</summary>
public sealed class FulfillmentContext
{
    private readonly Func<FulfillmentContext, CancellationToken, Task<IReadOnlyList<StripeLineItem>>> _loadLineItems;
    private readonly CheckoutSessionRoute? _route;
    private StripeCheckoutSession? _session;
    private Task<IReadOnlyList<StripeLineItem>>? _lineItems;

    /// <summary>A context on a session already read (the success page's sync).</summary>
    internal FulfillmentContext(StripeCheckoutSession session, StripeEvent? stripeEvent, string? account, Func<FulfillmentContext, CancellationToken, Task<IReadOnlyList<StripeLineItem>>> loadLineItems)
    {
        _session = session;
        Event = stripeEvent;
        Account = account;
        _loadLineItems = loadLineItems;
    }

    /// <summary>
    /// A context on an event's session, which is deserialized only when the handler first reads something only the
    /// whole session has: a handler that needs just the ids never pays for it.
    /// </summary>
    internal FulfillmentContext(StripeEvent stripeEvent, CheckoutSessionRoute route, Func<FulfillmentContext, CancellationToken, Task<IReadOnlyList<StripeLineItem>>> loadLineItems)
    {
        _route = route;
        Event = stripeEvent;
        Account = stripeEvent.Account;
        _loadLineItems = loadLineItems;
    }

    /// <summary>Gets the Checkout session, as the event (or the success page's sync) saw it.</summary>
    public StripeCheckoutSession Session => _session ??= Event!.ToCheckoutSession();

    /// <summary>Gets the event that triggered the fulfillment; <see langword="null"/> when the success page's sync did.</summary>
    public StripeEvent? Event { get; }

    /// <summary>Gets the connected account the purchase happened on (Connect platforms), or <see langword="null"/>.</summary>
    public string? Account { get; }

    /// <summary>Gets the session's id.</summary>
    public string SessionId => _route?.Id ?? Session.Id;

    /// <summary>Gets the fulfillment type the checkout was created with.</summary>
    public string FulfillmentType => (_route is { } route ? route.FulfillmentType : Session.Metadata.GetValueOrDefault(MetadataKeys.FulfillmentType)) ?? string.Empty;

    /// <summary>Gets the app's user id of the buyer (the session's <c>client_reference_id</c>).</summary>
    public string? UserId => Session.ClientReferenceId ?? Session.Metadata.GetValueOrDefault(MetadataKeys.UserId);

    /// <summary>Gets whether the buyer checked out as a guest.</summary>
    public bool IsGuest => Session.Metadata.TryGetValue(MetadataKeys.Buyer, out var buyer) ? buyer == "guest" : Session.Customer is null;

    /// <summary>Gets the buyer's email: what they entered on Checkout, else what the session was created with.</summary>
    public string? Email => Session.CustomerDetails?.Email ?? Session.CustomerEmail;

    /// <summary>Gets the Stripe customer id (registered buyers; guests may have none).</summary>
    public string? CustomerId => Session.Customer;

    /// <summary>Gets the app's tenant id the checkout was created with, or <see langword="null"/>.</summary>
    public string? TenantId => Session.Metadata.GetValueOrDefault(MetadataKeys.TenantId);

    /// <summary>Gets the session's metadata: the app's own keys and the library's <c>wavhaven_</c> keys.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Session.Metadata;

    /// <summary>Fetches the purchase's line items from Stripe (once; later calls reuse the answer).</summary>
    public Task<IReadOnlyList<StripeLineItem>> GetLineItemsAsync(CancellationToken cancellationToken = default) =>
        _lineItems is { IsFaulted: false, IsCanceled: false } loaded ? loaded : _lineItems = _loadLineItems(this, cancellationToken);
}
