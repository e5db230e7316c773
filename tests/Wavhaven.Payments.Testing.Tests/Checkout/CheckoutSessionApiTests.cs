using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Testing.Tests.Checkout;

public sealed class CheckoutSessionApiTests : EmulatorTest
{
    [Fact]
    public async Task Create_AnswersAnOpenSessionWithTheHostedPageUrl()
    {
        var before = Emulator.Now;

        var session = await CreatePaymentSessionAsync();

        var id = (string)session["id"]!;
        id.Should().MatchRegex("^cs_test_[A-Za-z0-9]+$");
        ((string)session["object"]!).Should().Be("checkout.session");
        ((string)session["status"]!).Should().Be("open");
        ((string)session["payment_status"]!).Should().Be("unpaid");
        ((string)session["url"]!).Should().Be(Emulator.BaseUrl + "checkout/pay/" + id);
        ((long)session["amount_total"]!).Should().Be((2 * 2900) + 999);
        ((string)session["currency"]!).Should().Be("usd");
        ((string)session["customer_email"]!).Should().Be("guest@example.com");
        session["customer"].Should().BeNull();
        ((string)session["client_reference_id"]!).Should().Be("order-1001");
        ((string)session["metadata"]!["order_id"]!).Should().Be("1001");
        ((long)session["expires_at"]!).Should().BeCloseTo(before.AddHours(24).ToUnixTimeSeconds(), 5);
        session.ContainsKey("payment_method_types").Should().BeFalse();
        session.ContainsKey("line_items").Should().BeFalse();
    }

    [Fact]
    public async Task Get_WithExpandLineItems_IncludesItemsWithPrices()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        var session = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id + "?expand[0]=line_items");
        var sameWithEmptyBrackets = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id + "?expand[]=line_items");

        var items = session["line_items"]!["data"]!.AsArray();
        items.Should().HaveCount(2);
        ((string)items[0]!["object"]!).Should().Be("item");
        ((string)items[0]!["price"]!["id"]!).Should().Be(TestPlans.LicensePrice);
        ((long)items[0]!["quantity"]!).Should().Be(2);
        ((long)items[0]!["amount_total"]!).Should().Be(5800);
        ((string)items[1]!["description"]!).Should().Be("Beat #42");
        sameWithEmptyBrackets["line_items"]!["data"]!.AsArray().Should().HaveCount(2);
    }

    [Fact]
    public async Task LineItems_PagesWithLimitAndStartingAfter()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        var first = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id + "/line_items?limit=1");
        var second = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id + "/line_items?limit=1&starting_after=" + (string)first["data"]![0]!["id"]!);

        ((bool)first["has_more"]!).Should().BeTrue();
        ((long)first["data"]![0]!["amount_total"]!).Should().Be(5800);
        ((bool)second["has_more"]!).Should().BeFalse();
        ((long)second["data"]![0]!["amount_total"]!).Should().Be(999);
    }

    [Theory]
    [InlineData("mode=payment&line_items[0][price]=price_nope&line_items[0][quantity]=1", "line_items[0][price]")]
    [InlineData("mode=subscription&line_items[0][price]=price_license_test&line_items[0][quantity]=1", "line_items")]
    [InlineData("mode=payment&line_items[0][price]=price_pro_month&line_items[0][quantity]=1", "line_items[0][price]")]
    [InlineData("mode=payment&line_items[0][price]=price_license_test&line_items[0][quantity]=1&customer=cus_x&customer_email=a%40b.co", "customer_email")]
    [InlineData("mode=payment&line_items[0][price]=price_license_test&line_items[0][quantity]=1&customer=cus_nobody", "customer")]
    [InlineData("mode=payment&line_items[0][price]=price_license_test", "line_items[0][quantity]")]
    [InlineData("mode=payment&line_items[0][price]=price_license_test&line_items[0][quantity]=1&ui_mode=hosted", "ui_mode")]
    [InlineData("mode=payment&line_items[0][price_data][unit_amount]=5&line_items[0][price_data][product_data][name]=x&line_items[0][quantity]=1", "line_items[0][price_data][currency]")]
    [InlineData("mode=subscription&line_items[0][price]=price_pro_month&line_items[0][quantity]=1&payment_intent_data[metadata][a]=b", "payment_intent_data")]
    [InlineData("mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=9223372036854775807&line_items[0][price_data][product_data][name]=x&line_items[0][quantity]=2", "line_items")]
    [InlineData("mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=9223372036854775807&line_items[0][price_data][product_data][name]=x&line_items[0][quantity]=1"
        + "&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=1&line_items[1][price_data][product_data][name]=y&line_items[1][quantity]=1", "line_items")]
    [InlineData("mode=subscription&line_items[0][price]=price_pro_year&line_items[0][quantity]=1&line_items[1][price]=price_team_month&line_items[1][quantity]=1", "line_items[1]")]
    [InlineData("mode=subscription&line_items[0][price]=price_pro_month&line_items[0][quantity]=1&line_items[1][price_data][currency]=usd&line_items[1][price_data][unit_amount]=100&line_items[1][price_data][product_data][name]=x&line_items[1][price_data][recurring][interval]=week&line_items[1][quantity]=1", "line_items[1]")]
    public async Task Create_RefusesWhatStripeRefuses(string body, string param)
    {
        var answer = await Stripe.PostAsync("/v1/checkout/sessions", body);

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        answer.Error["param"]!.GetValue<string>().Should().Be(param);
    }

    [Theory]
    [InlineData(20, 20, HttpStatusCode.OK)]
    [InlineData(1, 21, HttpStatusCode.BadRequest)]
    [InlineData(21, 0, HttpStatusCode.BadRequest)]
    public async Task Subscription_HoldsAtMost20RecurringAnd20OneTimeLines(int recurring, int oneTime, HttpStatusCode expected)
    {
        var lines = Enumerable.Repeat("[price]=price_pro_month&line_items[{0}][quantity]=1", recurring)
            .Concat(Enumerable.Repeat("[price]=price_license_test&line_items[{0}][quantity]=1", oneTime))
            .Select((line, index) => $"line_items[{index}]" + string.Format(System.Globalization.CultureInfo.InvariantCulture, line, index));

        var answer = await Stripe.PostAsync("/v1/checkout/sessions", "mode=subscription&" + string.Join('&', lines));

        answer.Status.Should().Be(expected);
        if (expected == HttpStatusCode.BadRequest)
        {
            answer.Error["param"]!.GetValue<string>().Should().Be("line_items");
        }
    }

    [Fact]
    public async Task AutomaticTax_ForACustomerWithoutAnAddress_NeedsCheckoutToSaveTheOneTheBuyerEnters()
    {
        var bare = (string)(await Stripe.PostOkAsync("/v1/customers", "email=jane%40example.com"))["id"]!;
        var withAddress = (string)(await Stripe.PostOkAsync("/v1/customers", "email=joe%40example.com&address[country]=US&address[postal_code]=94107"))["id"]!;
        const string Cart = "mode=payment&line_items[0][price]=price_license_test&line_items[0][quantity]=1&automatic_tax[enabled]=true";

        var refused = await Stripe.PostAsync("/v1/checkout/sessions", Cart + "&customer=" + bare);
        var saving = await Stripe.PostAsync("/v1/checkout/sessions", Cart + "&customer=" + bare + "&customer_update[address]=auto");
        var known = await Stripe.PostAsync("/v1/checkout/sessions", Cart + "&customer=" + withAddress);
        var guest = await Stripe.PostAsync("/v1/checkout/sessions", Cart + "&customer_update[address]=auto");

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        refused.Error["param"]!.GetValue<string>().Should().Be("customer_update[address]");
        refused.Error["message"]!.GetValue<string>().Should().Contain("requires a valid address on the Customer");
        saving.Status.Should().Be(HttpStatusCode.OK);
        known.Status.Should().Be(HttpStatusCode.OK);
        guest.Status.Should().Be(HttpStatusCode.BadRequest);
        guest.Error["param"]!.GetValue<string>().Should().Be("customer_update");
        var customer = await Stripe.GetOkAsync("/v1/customers/" + withAddress);
        ((string)customer["address"]!["postal_code"]!).Should().Be("94107");
    }

    [Fact]
    public async Task Expire_EndsTheSessionAndEmitsExpired()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        var expired = await Stripe.PostOkAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);
        var again = await Stripe.PostAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);

        ((string)expired["status"]!).Should().Be("expired");
        expired["url"].Should().BeNull();
        EventTypes().Should().Equal("checkout.session.expired");
        again.Status.Should().Be(HttpStatusCode.BadRequest);
    }

    /// <summary>
    /// A session whose buyer's card was declined is still open, with the payment intent of that attempt waiting for another
    /// payment method. Stripe cancels that intent when the session expires (it cannot be cancelled on its own: "expire the
    /// Checkout Session instead"); the emulator left it in requires_payment_method, as if the buyer could still pay it.
    /// Expired by the API or by the clock alike.
    /// </summary>
    [Theory]
    [InlineData("api")]
    [InlineData("clock")]
    public async Task Expire_AfterADeclinedCard_CancelsTheSessionsPaymentIntent(string by)
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;
        await Emulator.CompleteCheckoutAsync(id, EmulatedPayment.Declined);
        var intentId = (string)(await Stripe.GetOkAsync("/v1/checkout/sessions/" + id))["payment_intent"]!;
        var eventsBefore = Emulator.Events.Count;

        if (by == "api")
        {
            await Stripe.PostOkAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);
        }
        else
        {
            await Emulator.AdvanceClockAsync(TimeSpan.FromHours(25));
        }

        var intent = await Stripe.GetOkAsync("/v1/payment_intents/" + intentId);
        ((string)intent["status"]!).Should().Be("canceled");
        ((long)intent["canceled_at"]!).Should().BeCloseTo(LastEvent("checkout.session.expired").Created.ToUnixTimeSeconds(), 1, "it was cancelled as the session expired");
        ((string?)intent["cancellation_reason"]).Should().NotBeNullOrEmpty("Stripe says why it cancelled an intent itself");
        EventTypesSince(eventsBefore).Should().Equal("payment_intent.canceled", "checkout.session.expired");
        ((string)LastEvent("payment_intent.canceled").DataObject()["status"]!).Should().Be("canceled");
    }

    /// <summary>Stripe expires only open sessions: a paid one is refused with 400, and stays as it was.</summary>
    [Fact]
    public async Task Expire_CompleteSession_Is400AndChangesNothing()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;
        await Emulator.CompleteCheckoutAsync(id);
        var eventsBefore = Emulator.Events.Count;

        var refused = await Stripe.PostAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        refused.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        refused.Error["message"]!.GetValue<string>().Should().Contain("\"complete\"");
        var session = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        ((string)session["status"]!).Should().Be("complete");
        ((string)session["payment_status"]!).Should().Be("paid");
        EventTypesSince(eventsBefore).Should().BeEmpty();
    }

    [Fact]
    public async Task Expire_UnknownSession_Is404ResourceMissing()
    {
        var refused = await Stripe.PostAsync("/v1/checkout/sessions/cs_test_nosuch/expire", string.Empty);

        refused.Status.Should().Be(HttpStatusCode.NotFound);
        refused.Error["code"]!.GetValue<string>().Should().Be("resource_missing");
    }

    /// <summary>A client's retry of the expiry (same key, its answer lost) gets the first answer again, not a 400, and no second event.</summary>
    [Fact]
    public async Task Expire_RetriedWithItsIdempotencyKey_ReplaysTheFirstAnswer()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        var first = await Stripe.PostAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty, "expire-key-1");
        var retry = await Stripe.PostAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty, "expire-key-1");

        first.Status.Should().Be(HttpStatusCode.OK);
        retry.Status.Should().Be(HttpStatusCode.OK);
        retry.Body.ToJsonString().Should().Be(first.Body.ToJsonString());
        EventTypes().Should().Equal("checkout.session.expired");
    }

    /// <summary>The expiry reaches the app's endpoint as Stripe sends it: signed with the endpoint's secret, the session expired inside.</summary>
    [Fact]
    public async Task Expire_DeliversCheckoutSessionExpired_Signed()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        await Stripe.PostOkAsync("/v1/checkout/sessions/" + id + "/expire", string.Empty);
        await Emulator.WaitForDeliveriesAsync();

        var webhook = Receiver.Accepted.Should().ContainSingle().Subject;
        webhook.Type.Should().Be("checkout.session.expired");
        StripeWebhookSignature.Verify(webhook.Body, webhook.Signature, [WebhookSecret], TimeSpan.FromMinutes(5), DateTimeOffset.UtcNow)
            .Should().Be(WebhookSignatureStatus.Valid);
        var session = webhook.Json["data"]!["object"]!;
        ((string)session["id"]!).Should().Be(id);
        ((string)session["status"]!).Should().Be("expired");
        session["url"].Should().BeNull();
        ((string)webhook.Json["request"]!["id"]!).Should().StartWith("req_", "an API call expired it, not Stripe's clock");
    }

    [Fact]
    public async Task OpenSession_ExpiresWhenTheClockPassesExpiresAt()
    {
        var id = (string)(await CreatePaymentSessionAsync())["id"]!;

        await Emulator.AdvanceClockAsync(TimeSpan.FromHours(23));
        var stillOpen = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);
        await Emulator.AdvanceClockAsync(TimeSpan.FromHours(2));
        var expired = await Stripe.GetOkAsync("/v1/checkout/sessions/" + id);

        ((string)stillOpen["status"]!).Should().Be("open");
        ((string)expired["status"]!).Should().Be("expired");
        EventTypes().Should().Equal("checkout.session.expired");
    }
    /// <summary>
    /// Stripe charges no less than its minimum per currency (USD 0.50, GBP 0.30, JPY 50, …): a Checkout session in payment
    /// mode whose total is above zero but below it is refused at creation ("The Checkout Session's total amount due must add
    /// up to at least $0.50 usd"). A free cart (total zero) is allowed and completes with no_payment_required.
    /// </summary>
    [Theory]
    [InlineData("usd", 49)]
    [InlineData("gbp", 29)]
    [InlineData("jpy", 49)]
    public async Task Create_PaymentTotalBelowStripesMinimumCharge_IsRefused(string currency, long total)
    {
        var answer = await Stripe.PostAsync("/v1/checkout/sessions",
            $"mode=payment&line_items[0][price_data][currency]={currency}&line_items[0][price_data][unit_amount]={total}"
            + "&line_items[0][price_data][product_data][name]=Sticker&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok");
        var atTheMinimum = await Stripe.PostAsync("/v1/checkout/sessions",
            $"mode=payment&line_items[0][price_data][currency]={currency}&line_items[0][price_data][unit_amount]={total + 1}"
            + "&line_items[0][price_data][product_data][name]=Sticker&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok");

        answer.Status.Should().Be(HttpStatusCode.BadRequest, "Stripe refuses a charge under its minimum: {0}", answer.Body.ToJsonString());
        answer.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        atTheMinimum.Status.Should().Be(HttpStatusCode.OK, atTheMinimum.Body.ToJsonString());
    }
    /// <summary>
    /// Stripe's amounts have at most eight digits (99999999: 999,999.99 USD, or ¥99,999,999; twelve for IDR), and Stripe
    /// refuses at creation a Checkout session whose total due is over that: 400 amount_too_large, "The Checkout Session's
    /// total amount due must be no more than $999,999.99". The emulator opened the session and charged it, so a test of a
    /// large cart passed against it and failed against Stripe.
    /// </summary>
    [Theory]
    [InlineData("usd", 100_000_000, 1)]
    [InlineData("usd", 50_000_000, 2)]
    [InlineData("jpy", 100_000_000, 1)]
    public async Task Create_PaymentTotalAboveStripesMaximumCharge_IsRefused(string currency, long unitAmount, int quantity)
    {
        var answer = await Stripe.PostAsync("/v1/checkout/sessions",
            $"mode=payment&line_items[0][price_data][currency]={currency}&line_items[0][price_data][unit_amount]={unitAmount}"
            + $"&line_items[0][price_data][product_data][name]=Studio&line_items[0][quantity]={quantity}&success_url=https%3A%2F%2Fshop.example%2Fok");
        var atTheMaximum = await Stripe.PostAsync("/v1/checkout/sessions",
            $"mode=payment&line_items[0][price_data][currency]={currency}&line_items[0][price_data][unit_amount]=99999999"
            + "&line_items[0][price_data][product_data][name]=Studio&line_items[0][quantity]=1&success_url=https%3A%2F%2Fshop.example%2Fok");

        answer.Status.Should().Be(HttpStatusCode.BadRequest, "Stripe refuses a charge over its maximum: {0}", answer.Body.ToJsonString());
        answer.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        answer.Error["code"]!.GetValue<string>().Should().Be("amount_too_large");
        atTheMaximum.Status.Should().Be(HttpStatusCode.OK, atTheMaximum.Body.ToJsonString());
    }
}
