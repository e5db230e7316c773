namespace Wavhaven.Payments.Fulfillment;

/// <summary>
/// The app's code for one kind of purchase: what happens once a checkout of <see cref="Type"/> is paid.
/// Runs once per purchase, whichever comes first: the webhook or the success page's
/// <c>ICheckoutService.SyncCheckoutAsync</c>. Throwing makes the library answer Stripe with 500, so that
/// Stripe delivers the event again and the fulfillment is retried.
/// </summary>
public interface IFulfillmentHandler
{
    /// <summary>Gets the fulfillment type this handler serves: the <c>CheckoutRequest.FulfillmentType</c> of its checkouts.</summary>
    string Type { get; }

    /// <summary>Delivers the purchase: the payment succeeded.</summary>
    Task FulfillAsync(FulfillmentContext context, CancellationToken cancellationToken);

    /// <summary>A delayed payment (e.g. a bank debit) failed after the buyer completed Checkout. Does nothing by default.</summary>
    Task OnPaymentFailedAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The Checkout session expired unpaid: release anything reserved for it. Does nothing by default.</summary>
    Task OnExpiredAsync(FulfillmentContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}
