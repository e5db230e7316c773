namespace Wavhaven.Payments.Customers;

/// <summary>Finds, or creates, the Stripe customer of an app user.</summary>
public interface ICustomerResolver
{
    /// <summary>
    /// Finds the user's customer: in the <see cref="ICustomerStore"/>, then by Stripe search on the user id
    /// the library keeps in the customer's metadata. Returns <see langword="null"/> when the user has none.
    /// </summary>
    Task<string?> FindCustomerIdAsync(CustomerKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Finds the user's customer, or creates it with the email and name given. Concurrent calls for one user
    /// create one customer: calls in this process share one lookup, and the creation's idempotency key is
    /// derived from the user id, so that Stripe answers a second instance's creation with the same customer.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The key has no user id, a user id over 255 characters (it keys the durable customer map), or the email is not a valid
    /// email address (checkout's rule); nothing was sent.
    /// </exception>
    Task<string> GetOrCreateCustomerIdAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the email and name of the user's Stripe customer, if the user has one: call it when the user changes them.
    /// A checkout gives the customer an email only when it creates the customer; after that Stripe sends receipts and
    /// invoices to the customer's email, and Checkout shows it (not editable) and reports it in <c>customer_details</c>,
    /// whatever email the later checkouts pass. Only what is given is sent; <see langword="null"/> leaves a field as it is.
    /// </summary>
    /// <param name="key">The user.</param>
    /// <param name="email">The user's new email, or <see langword="null"/> to leave it as it is.</param>
    /// <param name="name">The user's new name, or <see langword="null"/> to leave it as it is.</param>
    /// <param name="cancellationToken">The token.</param>
    /// <returns>
    /// <see langword="true"/> when the customer was updated; <see langword="false"/> when the user has no customer (nothing
    /// to update: their first checkout creates one with the email it passes), or when the customer the store names is
    /// gone from Stripe (deleted, or of the other mode): the user's next checkout replaces it, with that checkout's email.
    /// </returns>
    /// <remarks>
    /// The default implementation throws <see cref="NotSupportedException"/>: it is there so that implementations written
    /// before this method (test doubles) still compile and load. The library's own resolver implements it.
    /// </remarks>
    /// <exception cref="ArgumentException">
    /// The key has no user id, the email is not a valid email address (checkout's rule), the name is blank, or neither is
    /// given; nothing was sent.
    /// </exception>
    /// <exception cref="Stripe.StripeApiException">Stripe refused the update.</exception>
    /// <exception cref="Stripe.StripeConnectionException">Stripe could not be reached.</exception>
    /// <exception cref="NotSupportedException">The implementation predates this method.</exception>
    Task<bool> UpdateCustomerAsync(CustomerKey key, string? email, string? name, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().FullName} does not implement ICustomerResolver.UpdateCustomerAsync.");

    /// <summary>
    /// Forgets the user's Stripe customer, for an erasure request: the customer the store names, and every one Stripe's search
    /// finds for the user id, lose the library's metadata (<c>wavhaven_user_id</c>, <c>wavhaven_tenant_id</c>), and the
    /// store forgets the user. The customers themselves stay in Stripe, with their payments and invoices (delete them in
    /// Stripe if the erasure covers them). The user id's next checkout creates a new customer, so an id the app hands out
    /// again never gets the erased person's customer, email or cards.
    /// </summary>
    /// <returns>How many customers were detached from the user id.</returns>
    /// <remarks>
    /// The default implementation throws <see cref="NotSupportedException"/>, so that implementations written before this
    /// method (test doubles) still compile and load. The library's own resolver implements it.
    /// </remarks>
    /// <exception cref="ArgumentException">The key has no user id, or one over 255 characters; nothing was sent.</exception>
    /// <exception cref="Stripe.StripeApiException">Stripe refused an update.</exception>
    /// <exception cref="Stripe.StripeConnectionException">Stripe could not be reached.</exception>
    /// <exception cref="NotSupportedException">The implementation, or the customer store, predates this method.</exception>
    Task<int> ForgetCustomerAsync(CustomerKey key, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"{GetType().FullName} does not implement ICustomerResolver.ForgetCustomerAsync.");
}
