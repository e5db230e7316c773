namespace Wavhaven.Payments.Testing.State;

/// <summary>
/// What happens when the buyer pays on the hosted Checkout page. Events follow Stripe's order:
/// <list type="bullet">
/// <item>payment mode, paid: (<c>customer.created</c> with <c>customer_creation=always</c>), <c>payment_intent.created</c>,
/// <c>payment_intent.succeeded</c>, <c>charge.succeeded</c>, <c>checkout.session.completed</c>; with a total of zero, only
/// <c>customer.created</c> (when the session had no customer: a no-cost order always gets one) and
/// <c>checkout.session.completed</c> (<c>no_payment_required</c>), whatever the buyer pays with;</item>
/// <item>payment mode, declined: <c>payment_intent.created</c> (first attempt only), <c>charge.failed</c>,
/// <c>payment_intent.payment_failed</c>; the session stays open;</item>
/// <item>payment mode, bank debit: <c>payment_intent.created</c>, <c>payment_intent.processing</c>, <c>charge.pending</c>,
/// <c>checkout.session.completed</c> (unpaid); settled: <c>payment_intent.succeeded</c>, <c>charge.succeeded</c>,
/// <c>checkout.session.async_payment_succeeded</c>, or <c>payment_intent.payment_failed</c>, <c>charge.failed</c>,
/// <c>checkout.session.async_payment_failed</c>;</item>
/// <item>subscription mode: (<c>customer.created</c> when the session had no customer), <c>customer.subscription.created</c>,
/// <c>invoice.created</c>, <c>invoice.finalized</c>, <c>invoice.paid</c>, <c>invoice.payment_succeeded</c>,
/// <c>checkout.session.completed</c>; a declined card emits nothing; a bank debit stops after <c>invoice.finalized</c>
/// and settles with <c>invoice.paid</c>, <c>invoice.payment_succeeded</c>, <c>checkout.session.async_payment_succeeded</c>,
/// or <c>invoice.payment_failed</c>, <c>customer.subscription.updated</c> (past_due), <c>checkout.session.async_payment_failed</c>.</item>
/// </list>
/// </summary>
internal sealed partial class EmulatorStore
{
    public const string DeclineMessage = "Your card was declined.";

    /// <summary>The buyer submits the page. Returns <see langword="false"/> when the payment was declined.</summary>
    public bool Pay(CheckoutSession session, EmulatedPayment payment, string? buyerEmail)
    {
        if (session.Status != "open")
        {
            throw new InvalidOperationException($"Checkout session {session.Id} is {session.Status}, not open: it cannot be paid.");
        }

        if (!string.IsNullOrWhiteSpace(buyerEmail) && !EmailIsCustomers(session))
        {
            session.BuyerEmail = buyerEmail.Trim();
        }

        return session.Mode == "subscription" ? PaySubscription(session, payment) : PayOnce(session, payment);
    }

    private bool PayOnce(CheckoutSession session, EmulatedPayment payment)
    {
        var free = session.AmountTotal == 0;
        // A no-cost order always gets a customer ("guest customers aren't supported"), as customer_creation=always does.
        if (session.CustomerId is null && (free || (payment != EmulatedPayment.Declined && session.CustomerCreation == "always")))
        {
            session.CustomerId = CreateCustomerForSession(session).Id;
        }

        if (free)
        {
            // Nothing to pay (a free cart): no payment method is asked for, and no payment intent or charge is made.
            Complete(session, "no_payment_required");
            Emit("checkout.session.completed", session, RequestInfo.Automatic);
            return true;
        }

        var intent = session.PaymentIntentId is null ? null : Find<PaymentIntent>(session.PaymentIntentId);
        if (intent is null)
        {
            intent = Add(new PaymentIntent(Ids.New("pi_"), Now, session.AmountTotal, session.Currency)
            {
                CustomerId = session.CustomerId,
                Metadata = new(session.PaymentIntentMetadata, StringComparer.Ordinal),
                Description = session.PaymentIntentDescription,
                ReceiptEmail = session.ReceiptEmail,
            });
            session.PaymentIntentId = intent.Id;
            Emit("payment_intent.created", intent, RequestInfo.Automatic);
        }

        intent.CustomerId ??= session.CustomerId;
        var methodType = payment == EmulatedPayment.DelayedBankDebit ? "sepa_debit" : "card";
        intent.PaymentMethodId = Ids.New("pm_");
        intent.PaymentMethodType = methodType;
        var charge = Add(new Charge(Ids.New("ch_"), Now, intent, methodType) { BillingEmail = BuyerEmailOf(session) });
        intent.LatestChargeId = charge.Id;

        switch (payment)
        {
            case EmulatedPayment.Declined:
                var decline = ("card_declined", "generic_decline", DeclineMessage);
                charge.Status = "failed";
                charge.Failure = decline;
                intent.Status = "requires_payment_method";
                intent.LastError = decline;
                session.LastError = DeclineMessage;
                Emit("charge.failed", charge, RequestInfo.Automatic);
                Emit("payment_intent.payment_failed", intent, RequestInfo.Automatic);
                return false;

            case EmulatedPayment.DelayedBankDebit:
                intent.Status = "processing";
                intent.LastError = null;
                Emit("payment_intent.processing", intent, RequestInfo.Automatic);
                Emit("charge.pending", charge, RequestInfo.Automatic);
                Complete(session, "unpaid");
                session.AwaitingAsyncPayment = true;
                Emit("checkout.session.completed", session, RequestInfo.Automatic);
                return true;

            default:
                charge.Status = "succeeded";
                intent.Status = "succeeded";
                intent.LastError = null;
                Emit("payment_intent.succeeded", intent, RequestInfo.Automatic);
                Emit("charge.succeeded", charge, RequestInfo.Automatic);
                Complete(session, "paid");
                Emit("checkout.session.completed", session, RequestInfo.Automatic);
                return true;
        }
    }

    private bool PaySubscription(CheckoutSession session, EmulatedPayment payment)
    {
        if (payment == EmulatedPayment.Declined)
        {
            session.LastError = DeclineMessage;
            return false;
        }

        var customer = session.CustomerId is null ? CreateCustomerForSession(session) : Get<Customer>(session.CustomerId, "customer", "customer");
        session.CustomerId = customer.Id;

        var subscription = CreateSubscription(session, customer);
        var invoice = CreateFirstInvoice(session, subscription, customer);
        subscription.LatestInvoiceId = invoice.Id;
        session.SubscriptionId = subscription.Id;
        session.InvoiceId = invoice.Id;

        Emit("customer.subscription.created", subscription, RequestInfo.Automatic);
        Emit("invoice.created", invoice, RequestInfo.Automatic);
        Finalize(invoice);
        if (payment == EmulatedPayment.DelayedBankDebit)
        {
            Complete(session, "unpaid");
            session.AwaitingAsyncPayment = true;
        }
        else
        {
            MarkPaid(invoice);
            Complete(session, invoice.Total == 0 ? "no_payment_required" : "paid");
        }

        Emit("checkout.session.completed", session, RequestInfo.Automatic);
        return true;
    }

    /// <summary>Settles a delayed payment of a completed session.</summary>
    public void SettleAsyncPayment(CheckoutSession session, bool succeeded)
    {
        if (!session.AwaitingAsyncPayment)
        {
            throw new InvalidOperationException($"Checkout session {session.Id} has no delayed payment waiting to settle. Pay it with EmulatedPayment.DelayedBankDebit first.");
        }

        session.AwaitingAsyncPayment = false;
        if (session.Mode == "subscription")
        {
            var invoice = Get<Invoice>(session.InvoiceId!, "invoice", "invoice");
            if (succeeded)
            {
                MarkPaid(invoice);
                session.PaymentStatus = "paid";
                Emit("checkout.session.async_payment_succeeded", session, RequestInfo.Automatic);
            }
            else
            {
                FailPayment(invoice);
                var subscription = Get<Subscription>(invoice.SubscriptionId, "subscription", "subscription");
                var before = subscription.ToJson(this);
                subscription.Status = "past_due";
                Emit("customer.subscription.updated", subscription, RequestInfo.Automatic, Json.Diff(before, subscription.ToJson(this)));
                Emit("checkout.session.async_payment_failed", session, RequestInfo.Automatic);
            }

            return;
        }

        var intent = Get<PaymentIntent>(session.PaymentIntentId!, "payment_intent", "payment_intent");
        var charge = Get<Charge>(intent.LatestChargeId!, "charge", "charge");
        if (succeeded)
        {
            charge.Status = "succeeded";
            intent.Status = "succeeded";
            session.PaymentStatus = "paid";
            Emit("payment_intent.succeeded", intent, RequestInfo.Automatic);
            Emit("charge.succeeded", charge, RequestInfo.Automatic);
            Emit("checkout.session.async_payment_succeeded", session, RequestInfo.Automatic);
        }
        else
        {
            var failure = ("insufficient_funds", "insufficient_funds", "The account has insufficient funds to cover this payment.");
            charge.Status = "failed";
            charge.Failure = failure;
            intent.Status = "requires_payment_method";
            intent.LastError = failure;
            Emit("payment_intent.payment_failed", intent, RequestInfo.Automatic);
            Emit("charge.failed", charge, RequestInfo.Automatic);
            Emit("checkout.session.async_payment_failed", session, RequestInfo.Automatic);
        }
    }

    /// <summary>
    /// Expires an open session (<c>checkout.session.expired</c>). The payment intent of an earlier, declined attempt is
    /// cancelled with it (<c>payment_intent.canceled</c> first), as Stripe does: an open session's intent can only end
    /// that way, since Stripe refuses to cancel it on its own.
    /// </summary>
    public void ExpireSession(CheckoutSession session, RequestInfo request)
    {
        if (session.Status != "open")
        {
            throw Api.ApiException.InvalidRequest($"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session has a status of \"{session.Status}\".");
        }

        session.Status = "expired";
        if (session.PaymentIntentId is { } intentId && Find<PaymentIntent>(intentId) is { Status: not ("canceled" or "succeeded") } intent)
        {
            intent.Status = "canceled";
            intent.CanceledAt = Now;

            // Stripe gives the cancellations it makes itself a reason of its own (failed_invoice, void_invoice, automatic,
            // expired; a caller's are duplicate, fraudulent, requested_by_customer, abandoned). Which one an expired
            // session's intent gets is not in the facts this emulator follows: automatic, the general one.
            intent.CancellationReason = "automatic";
            Emit("payment_intent.canceled", intent, RequestInfo.Automatic);
        }

        Emit("checkout.session.expired", session, request);
    }

    private void Complete(CheckoutSession session, string paymentStatus)
    {
        // Stripe's customer_details are the buyer's at payment: a later update of the customer does not rewrite them.
        session.BuyerEmail = BuyerEmailOf(session);
        var customer = session.CustomerId is null ? null : Find<Customer>(session.CustomerId);
        session.BuyerName = customer?.Name;
        if (customer is { Email: null } && session.BuyerEmail is { } entered)
        {
            // Stripe's Checkout sets the email the buyer entered on a customer that had none (later sessions show it read-only).
            customer.Email = entered;
            Emit("customer.updated", customer, RequestInfo.Automatic, new System.Text.Json.Nodes.JsonObject { ["email"] = null });
        }

        session.Status = "complete";
        session.PaymentStatus = paymentStatus;
        session.LastError = null;
    }

    /// <summary>The email the buyer paid with: typed on the page, given to the session, or the customer's.</summary>
    public string? BuyerEmailOf(CheckoutSession session) =>
        session.BuyerEmail ?? session.CustomerEmail ?? (session.CustomerId is null ? null : Find<Customer>(session.CustomerId)?.Email);

    /// <summary>Whether the page shows the session's customer's email read-only, as Stripe's does: the buyer cannot change it.</summary>
    public bool EmailIsCustomers(CheckoutSession session) =>
        session.CustomerId is not null && Find<Customer>(session.CustomerId)?.Email is not null;

    private Customer CreateCustomerForSession(CheckoutSession session)
    {
        var customer = Add(new Customer(Ids.New("cus_"), Now) { Email = BuyerEmailOf(session) ?? "buyer@example.com" });
        Emit("customer.created", customer, RequestInfo.Automatic);
        return customer;
    }
}
