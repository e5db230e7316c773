namespace Wavhaven.Payments.Webhooks;

/// <summary>
/// The escape hatch: sees every verified event of every type, once per event (e.g. <c>charge.refunded</c>,
/// <c>charge.dispute.created</c>). Switch on <see cref="StripeEvent.Type"/> and ignore the rest.
/// </summary>
public interface IStripeEventHandler
{
    /// <summary>Handles one event. Throwing makes the library answer Stripe with 500, so the event is delivered again.</summary>
    Task HandleAsync(StripeEvent stripeEvent, CancellationToken cancellationToken);
}
