using System.Net;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Checkout;

public sealed class HostedCheckoutTests : EmulatorTest
{
    [Fact]
    public async Task Page_ShowsLinesTotalButtonsAndCancelLink()
    {
        var session = await CreatePaymentSessionAsync();

        var html = await Stripe.Client.GetStringAsync((string)session["url"]!);

        html.Should().Contain("Beat licence").And.Contain("Beat #42").And.Contain("67.99 USD");
        html.Should().Contain(">Pay</button>").And.Contain("Pay with a declined card").And.Contain("Pay by bank debit (delayed)");
        html.Should().Contain("href=\"https://shop.example/cart\"");
    }

    /// <summary>
    /// Stripe's three-decimal currencies (BHD, JOD, KWD, OMR, TND) count amounts in thousandths: 5120 is 5.120 KWD. The
    /// page divided every amount that is not zero-decimal by 100, so it showed ten times the price the buyer pays.
    /// </summary>
    [Theory]
    [InlineData("kwd", "10.240 KWD")]
    [InlineData("bhd", "10.240 BHD")]
    [InlineData("jod", "10.240 JOD")]
    [InlineData("omr", "10.240 OMR")]
    [InlineData("tnd", "10.240 TND")]
    public async Task Page_ShowsAThreeDecimalCurrencyInThousandths(string currency, string expected)
    {
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price_data][currency]=" + currency + "&line_items[0][price_data][unit_amount]=5120"
            + "&line_items[0][price_data][product_data][name]=Beat&line_items[0][quantity]=2"
            + "&customer_email=guest%40example.com&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");

        var html = await Stripe.Client.GetStringAsync((string)session["url"]!);

        ((long)session["amount_total"]!).Should().Be(10240);
        html.Should().Contain("id=\"total\">" + expected);
    }

    /// <summary>The same amounts reach handlers through webhooks, in the invoice line's description ("1 × Pro (at …)").</summary>
    [Fact]
    public async Task SubscriptionInvoiceLine_DescribesAThreeDecimalPriceInThousandths()
    {
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=subscription&line_items[0][price_data][currency]=kwd&line_items[0][price_data][unit_amount]=4500"
            + "&line_items[0][price_data][recurring][interval]=month&line_items[0][price_data][product_data][name]=Pro&line_items[0][quantity]=1"
            + "&customer_email=jane%40example.com&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");

        await Emulator.CompleteCheckoutAsync((string)session["id"]!);

        var invoice = LastEvent("invoice.paid").DataObject();
        ((long)invoice["amount_paid"]!).Should().Be(4500);
        ((string)invoice["lines"]!["data"]![0]!["description"]!).Should().Be("1 × Pro (at 4.500 KWD / month)");
    }

    /// <summary>
    /// A customer's email and name, updated between two checkouts: the later session's <c>customer_details</c> show the
    /// new ones (Checkout takes the customer's), while the earlier, completed session keeps those it was paid with, as
    /// Stripe's do. The emulator read the customer afresh on every read, so an update rewrote every past session's details.
    /// </summary>
    [Fact]
    public async Task CustomerUpdatedBetweenCheckouts_LaterSessionShowsTheNewEmail_EarlierKeepsThePaidWithOne()
    {
        var customerId = (string)(await Stripe.PostOkAsync("/v1/customers", "email=sam.old%40example.com&name=Sam"))["id"]!;
        async Task<JsonObject> PayAsync()
        {
            var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
                "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&customer=" + customerId
                + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");
            await Emulator.CompleteCheckoutAsync((string)session["id"]!);
            return session;
        }

        var first = await PayAsync();
        var updated = await Stripe.PostOkAsync("/v1/customers/" + customerId, "email=sam.new%40example.com&name=Samantha");
        var second = await PayAsync();

        ((string)updated["email"]!).Should().Be("sam.new@example.com");
        var later = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)second["id"]!);
        ((string)later["customer_details"]!["email"]!).Should().Be("sam.new@example.com");
        ((string)later["customer_details"]!["name"]!).Should().Be("Samantha");
        var earlier = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)first["id"]!);
        ((string)earlier["customer_details"]!["email"]!).Should().Be("sam.old@example.com", "a session's customer_details are what the buyer paid with");
        ((string)earlier["customer_details"]!["name"]!).Should().Be("Sam");
    }

    /// <summary>
    /// A session made for a customer: Stripe's Checkout shows the customer's email read-only, so the buyer pays with it.
    /// The emulator's page offered an editable email field and took what was posted as <c>customer_details.email</c> and
    /// the charge's billing email, so a test could pay with an email Stripe would never let through.
    /// </summary>
    [Theory]
    [InlineData("payment")]
    [InlineData("subscription")]
    public async Task CustomerSession_ShowsTheCustomersEmailReadOnly_AndIgnoresAnotherPostedOne(string mode)
    {
        var customerId = (string)(await Stripe.PostOkAsync("/v1/customers", "email=sam%40example.com&name=Sam"))["id"]!;
        var price = mode == "payment" ? TestPlans.LicensePrice : TestPlans.ProMonthPrice;
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=" + mode + "&line_items[0][price]=" + price + "&line_items[0][quantity]=1&customer=" + customerId
            + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");
        var page = new Uri((string)session["url"]!);

        var html = await Stripe.Client.GetStringAsync(page);
        using var form = new FormUrlEncodedContent([new("payment", "succeeds"), new("email", "mallory@example.com")]);
        using var answer = await Stripe.Client.PostAsync(page, form);

        answer.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)session["id"]!);
        ((string)completed["customer_details"]!["email"]!).Should().Be("sam@example.com", "the buyer cannot change a customer's email on Stripe's page");
        ((string)(await Stripe.GetOkAsync("/v1/customers/" + customerId))["email"]!).Should().Be("sam@example.com");
        if (mode == "payment")
        {
            var intent = await Stripe.GetOkAsync("/v1/payment_intents/" + (string)completed["payment_intent"]! + "?expand[]=latest_charge");
            ((string)intent["latest_charge"]!["billing_details"]!["email"]!).Should().Be("sam@example.com");
        }

        html.Should().MatchRegex("<input type=\"email\" name=\"email\" value=\"sam@example.com\" readonly>", "Stripe shows a customer's email read-only");
    }

    [Fact]
    public async Task PaySubscription_CompletesSessionCreatesCustomerSubscriptionAndInvoice_InStripesEventOrder()
    {
        var session = await CreateSubscriptionSessionAsync();
        var id = (string)session["id"]!;

        var redirect = await Emulator.CompleteCheckoutAsync((string)session["url"]!);

        redirect.Should().Be(new Uri("https://shop.example/ok?session_id=" + id));
        EventTypes().Should().Equal(
            "customer.created",
            "customer.subscription.created",
            "invoice.created",
            "invoice.finalized",
            "invoice.paid",
            "invoice.payment_succeeded",
            "checkout.session.completed");

        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        ((string)completed["status"]!).Should().Be("complete");
        ((string)completed["payment_status"]!).Should().Be("paid");
        var customerId = (string)completed["customer"]!;
        ((string)(await Stripe.GetOkAsync("/v1/customers/" + customerId))["email"]!).Should().Be("jane@example.com");

        var subscription = await Stripe.GetOkAsync("/v1/subscriptions/" + (string)completed["subscription"]!);
        ((string)subscription["status"]!).Should().Be("active");
        ((string)subscription["customer"]!).Should().Be(customerId);
        ((string)subscription["metadata"]!["wavhaven_user_id"]!).Should().Be("user-42");
        var item = subscription["items"]!["data"]![0]!;
        ((string)item["id"]!).Should().StartWith("si_");
        ((string)item["price"]!["id"]!).Should().Be(TestPlans.ProMonthPrice);
        var periodStart = DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_start"]!);
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!).Should().Be(periodStart.AddMonths(1));
        subscription.ContainsKey("current_period_end").Should().BeFalse();

        var invoice = await Stripe.GetOkAsync("/v1/invoices/" + (string)subscription["latest_invoice"]!);
        ((string)invoice["status"]!).Should().Be("paid");
        ((string)invoice["billing_reason"]!).Should().Be("subscription_create");
        ((long)invoice["amount_paid"]!).Should().Be(1500);
        ((string)invoice["parent"]!["subscription_details"]!["subscription"]!).Should().Be((string)subscription["id"]!);
        ((string)invoice["parent"]!["subscription_details"]!["metadata"]!["wavhaven_user_id"]!).Should().Be("user-42");
        invoice.ContainsKey("subscription").Should().BeFalse();
        ((string)invoice["lines"]!["data"]![0]!["pricing"]!["price_details"]!["price"]!).Should().Be(TestPlans.ProMonthPrice);

        var completedEvent = LastEvent("checkout.session.completed").ToJsonObject();
        ((string)completedEvent["api_version"]!).Should().Be(Wavhaven.Payments.Stripe.StripeApiVersion.Current);
        ((string)completedEvent["data"]!["object"]!["subscription"]!).Should().Be((string)subscription["id"]!);
        completedEvent["data"]!["object"]!.AsObject().ContainsKey("line_items").Should().BeFalse();
    }

    [Fact]
    public async Task PaySubscriptionWithTrial_IsTrialingWithAZeroInvoice()
    {
        var session = await CreateSubscriptionSessionAsync("&subscription_data[trial_period_days]=14");

        var page = await Stripe.Client.GetStringAsync((string)session["url"]!);
        await Emulator.CompleteCheckoutAsync((string)session["id"]!);

        ((long)session["amount_total"]!).Should().Be(0, "nothing is due today during a trial");
        page.Should().Contain("14-day free trial").And.Contain("0.00 USD");

        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)session["id"]! + "?expand[0]=subscription");
        ((string)completed["payment_status"]!).Should().Be("no_payment_required");
        var subscription = completed["subscription"]!;
        ((string)subscription["status"]!).Should().Be("trialing");
        ((long)subscription["trial_end"]! - (long)subscription["trial_start"]!).Should().Be(14 * 24 * 3600);
        ((long)subscription["items"]!["data"]![0]!["current_period_end"]!).Should().Be((long)subscription["trial_end"]!);
        var invoice = LastEvent("invoice.paid").DataObject();
        ((long)invoice["amount_paid"]!).Should().Be(0);
    }

    [Fact]
    public async Task PayPayment_CreatesIntentAndCharge_InStripesEventOrder()
    {
        var session = await CreatePaymentSessionAsync();
        var id = (string)session["id"]!;

        var redirect = await Emulator.CompleteCheckoutAsync(id);

        redirect.Should().Be(new Uri("https://shop.example/ok?session_id=" + id));
        EventTypes().Should().Equal("payment_intent.created", "payment_intent.succeeded", "charge.succeeded", "checkout.session.completed");
        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        ((string)completed["status"]!).Should().Be("complete");
        ((string)completed["payment_status"]!).Should().Be("paid");
        completed["customer"].Should().BeNull();
        ((string)completed["customer_details"]!["email"]!).Should().Be("guest@example.com");
        var intent = await Stripe.GetOkAsync("/v1/payment_intents/" + (string)completed["payment_intent"]!);
        ((string)intent["status"]!).Should().Be("succeeded");
        ((long)intent["amount"]!).Should().Be(6799);
        ((string)intent["metadata"]!["wavhaven_type"]!).Should().Be("license");
        ((string)intent["description"]!).Should().Be("Order 1001");
        ((string)intent["latest_charge"]!).Should().StartWith("ch_");
        var created = Emulator.Events[0].DataObject();
        ((string)created["status"]!).Should().Be("requires_payment_method", "payment_intent.created carries the intent as it was when created");
    }

    [Fact]
    public async Task DeclinedCard_ShowsTheDeclineAndLeavesTheSessionOpenAndUnpaid()
    {
        var session = await CreatePaymentSessionAsync();
        var id = (string)session["id"]!;

        var stay = await Emulator.CompleteCheckoutAsync(id, EmulatedPayment.Declined);

        stay.Should().Be(new Uri((string)session["url"]!));
        var html = await Stripe.Client.GetStringAsync((string)session["url"]!);
        html.Should().Contain("Your card was declined.");
        var reloaded = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        ((string)reloaded["status"]!).Should().Be("open");
        ((string)reloaded["payment_status"]!).Should().Be("unpaid");
        EventTypes().Should().Equal("payment_intent.created", "charge.failed", "payment_intent.payment_failed");
        var failed = LastEvent("payment_intent.payment_failed").DataObject();
        ((string)failed["last_payment_error"]!["code"]!).Should().Be("card_declined");

        var retried = await Emulator.CompleteCheckoutAsync(id);

        retried.Should().Be(new Uri("https://shop.example/ok?session_id=" + id));
        EventTypesSince(3).Should().Equal("payment_intent.succeeded", "charge.succeeded", "checkout.session.completed");
    }

    [Fact]
    public async Task DeclinedCard_InSubscriptionMode_CreatesNothing()
    {
        var session = await CreateSubscriptionSessionAsync();

        await Emulator.CompleteCheckoutAsync((string)session["id"]!, EmulatedPayment.Declined);

        EventTypes().Should().BeEmpty();
        (await Stripe.GetOkAsync("/v1/subscriptions"))["data"]!.AsArray().Should().BeEmpty();
    }

    [Theory]
    [InlineData(true, "checkout.session.async_payment_succeeded", "paid")]
    [InlineData(false, "checkout.session.async_payment_failed", "unpaid")]
    public async Task BankDebit_CompletesUnpaidThenSettles(bool succeeds, string settledEvent, string paymentStatus)
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        await Emulator.CompleteCheckoutAsync(id, EmulatedPayment.DelayedBankDebit);
        var pending = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        var eventsBefore = Emulator.Events.Count;
        await Emulator.SettleAsyncPaymentAsync(id, succeeds);

        ((string)pending["status"]!).Should().Be("complete");
        ((string)pending["payment_status"]!).Should().Be("unpaid");
        LastEvent("checkout.session.completed").DataObject()["payment_status"]!.GetValue<string>().Should().Be("unpaid");
        EventTypesSince(eventsBefore).Last().Should().Be(settledEvent);
        ((string)(await Stripe.GetOkAsync("/v1/checkout/sessions/" + id))["payment_status"]!).Should().Be(paymentStatus);
    }

    [Fact]
    public async Task SettleAsyncPayment_WithoutADelayedPayment_Throws()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        var act = () => Emulator.SettleAsyncPaymentAsync(id, succeeded: true);

        await act.Should().ThrowAsync<InvalidOperationException>();
    }

    [Fact]
    public async Task CompletedSession_CannotBePaidTwice()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;
        await Emulator.CompleteCheckoutAsync(id);

        var act = () => Emulator.CompleteCheckoutAsync(id);

        await act.Should().ThrowAsync<InvalidOperationException>();
        Emulator.Events.Count(e => e.Type == "checkout.session.completed").Should().Be(1);
    }

    /// <summary>A buyer still on the page of a session the app has expired (the first of two tabs) cannot pay it.</summary>
    [Fact]
    public async Task ExpiredSession_PageSaysSo_AndCannotBePaid()
    {
        var session = await CreatePaymentSessionAsync();
        var id = (string)session["id"]!;
        var page = await Stripe.Client.GetStringAsync((string)session["url"]!);
        await Stripe.PostOkAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);

        using var shown = await Stripe.Client.GetAsync((string)session["url"]!);
        var form = HtmlForms.Parse(page).Should().ContainSingle().Subject; // the page as the buyer loaded it, still open
        using var content = new FormUrlEncodedContent([.. form.Fields, new("payment", "succeeds")]);
        using var posted = await Stripe.Client.PostAsync(new Uri(new Uri((string)session["url"]!), form.Action), content);
        var act = () => Emulator.CompleteCheckoutAsync(id);

        shown.StatusCode.Should().Be(HttpStatusCode.Gone);
        (await shown.Content.ReadAsStringAsync()).Should().Contain("has expired");
        posted.StatusCode.Should().Be(HttpStatusCode.Gone);
        await act.Should().ThrowAsync<InvalidOperationException>();
        EventTypes().Should().Equal("checkout.session.expired");
    }

    [Fact]
    public async Task PostedForm_WithoutAPaymentChoice_Is400AndChangesNothing()
    {
        var session = await CreatePaymentSessionAsync();
        using var form = new FormUrlEncodedContent([new("payment", "bitcoin")]);

        using var response = await Stripe.Client.PostAsync((string)session["url"]!, form);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        EventTypes().Should().BeEmpty();
    }

    /// <summary>
    /// The API accepts a success URL with non-ASCII characters; the page put it in the Location header as it was, which
    /// Kestrel refuses, and answered 500 after the payment had gone through.
    /// </summary>
    [Fact]
    public async Task Paying_WithANonAsciiSuccessUrl_RedirectsThereInItsAsciiForm()
    {
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1"
            + "&success_url=" + Uri.EscapeDataString("https://shop.example/merci?produit=café&session_id={CHECKOUT_SESSION_ID}"));

        var target = await Emulator.CompleteCheckoutAsync((string)session["id"]!);

        target.AbsoluteUri.Should().Be("https://shop.example/merci?produit=caf%C3%A9&session_id=" + (string)session["id"]!);
        Emulator.Events.Select(e => e.Type).Should().Contain("checkout.session.completed");
    }
}
