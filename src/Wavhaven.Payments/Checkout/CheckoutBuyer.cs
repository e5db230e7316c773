namespace Wavhaven.Payments.Checkout;

/// <summary>Who is buying: a <see cref="GuestBuyer"/> or a <see cref="RegisteredBuyer"/>.</summary>
public abstract class CheckoutBuyer
{
    private protected CheckoutBuyer(string userId)
    {
        UserId = userId;
    }

    /// <summary>
    /// Gets the app's id for the buyer, sent as the session's <c>client_reference_id</c>. For a guest this is
    /// whatever id the app keeps for the guest's order or cart.
    /// </summary>
    public string UserId { get; }

    /// <summary>Gets whether the buyer is a guest.</summary>
    public abstract bool IsGuest { get; }

    /// <summary>A buyer with only an email: Checkout gets <c>customer_email</c>, and no Stripe customer is kept.</summary>
    /// <param name="email">The guest's email.</param>
    /// <param name="userId">The app's id for the guest (an order, cart or guest-account id).</param>
    public static GuestBuyer Guest(string email, string userId) => new(email, userId);

    /// <summary>A signed-in user: Checkout gets the user's Stripe customer, found or created.</summary>
    /// <param name="userId">The app's user id.</param>
    /// <param name="email">The user's email, set on a new Stripe customer.</param>
    /// <param name="name">The user's name, set on a new Stripe customer.</param>
    public static RegisteredBuyer Registered(string userId, string? email = null, string? name = null) => new(userId, email, name);
}

/// <summary>A buyer with only an email.</summary>
public sealed class GuestBuyer : CheckoutBuyer
{
    /// <summary>Initializes a new instance.</summary>
    public GuestBuyer(string email, string userId)
        : base(userId)
    {
        Email = email;
    }

    /// <summary>Gets the guest's email.</summary>
    public string Email { get; }

    /// <inheritdoc />
    public override bool IsGuest => true;
}

/// <summary>A signed-in user of the app.</summary>
public sealed class RegisteredBuyer : CheckoutBuyer
{
    /// <summary>Initializes a new instance.</summary>
    public RegisteredBuyer(string userId, string? email = null, string? name = null)
        : base(userId)
    {
        Email = email;
        Name = name;
    }

    /// <summary>Gets the user's email.</summary>
    public string? Email { get; }

    /// <summary>Gets the user's name.</summary>
    public string? Name { get; }

    /// <inheritdoc />
    public override bool IsGuest => false;
}
