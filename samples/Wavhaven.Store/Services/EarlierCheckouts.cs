using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;

namespace Wavhaven.Store.Services;

/// <summary>Closes the Checkout session the store opened last for a purchase before it opens another.</summary>
public static class EarlierCheckouts
{
    /// <summary>
    /// Expires <paramref name="sessionId"/>, so that the buyer cannot pay it in a tab left open, and answers the session
    /// when the buyer completed it first (paid, or a bank debit on its way): then no other checkout should be opened, and
    /// its success page says how far it got. <see langword="null"/> when another checkout may be opened: the session
    /// expired (now or before), its delayed payment failed, or Stripe no longer knows it (test data deleted, a switch of keys).
    /// </summary>
    public static async Task<StripeCheckoutSession?> CompletedBeforeExpiryAsync(this ICheckoutService checkout, string sessionId, CancellationToken cancellationToken)
    {
        try
        {
            var result = await checkout.ExpireCheckoutAsync(sessionId, cancellationToken);
            return result.IsCompleted ? result.Session : null;
        }
        catch (StripeApiException exception) when (exception.StatusCode == StatusCodes.Status404NotFound)
        {
            return null;
        }
    }

    /// <summary>The success page of a session, where a buyer sent back to a completed checkout sees where it stands.</summary>
    public static Uri SuccessPage(Uri siteBase, string sessionId) =>
        new(siteBase, "checkout/success?session_id=" + Uri.EscapeDataString(sessionId));
}
