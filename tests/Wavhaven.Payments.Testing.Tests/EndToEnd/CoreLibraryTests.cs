using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Portal;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.EndToEnd;

/// <summary>The core library, unchanged, against the emulator: the emulator must accept exactly what it sends.</summary>
public sealed class CoreLibraryTests : IAsyncLifetime
{
    private StripeEmulator _emulator = null!;
    private StripeHttp _stripe = null!;

    public async Task InitializeAsync()
    {
        _emulator = await StripeEmulator.StartAsync(new StripeEmulatorOptions { Plans = TestPlans.Create() });
        _stripe = new StripeHttp(_emulator);
    }

    public async Task DisposeAsync()
    {
        _stripe.Dispose();
        await _emulator.DisposeAsync();
    }

    private ServiceProvider BuildServices() => LibraryOptions.BuildServices(_emulator);

    [Fact]
    public async Task GuestCart_OpensAPaymentCheckoutThatPaysAndCarriesTheRoutingMetadata()
    {
        await using var services = BuildServices();
        var checkout = services.GetRequiredService<ICheckoutService>();

        var result = await checkout.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1001"),
            Lines = [CheckoutLine.ForPlan("beat-license", quantity: 2), CheckoutLine.Item("Beat #7", 999, "usd", productMetadata: new Dictionary<string, string> { ["beat_id"] = "7" })],
            FulfillmentType = "license",
            Metadata = new Dictionary<string, string> { ["order_id"] = "1001" },
            IdempotencyKey = "checkout-order-1001",
            AllowPromotionCodes = true,
        });

        result.Url.Should().Be(new Uri(_emulator.BaseUrl, "checkout/pay/" + result.SessionId));
        result.ExpiresAt!.Value.Should().BeCloseTo(_emulator.Now.AddHours(24), TimeSpan.FromMinutes(1));
        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + result.SessionId + "?expand[0]=line_items");
        ((string)session["mode"]!).Should().Be("payment");
        ((string)session["customer_email"]!).Should().Be("jane@example.com");
        ((string)session["client_reference_id"]!).Should().Be("order-1001");
        ((string)session["metadata"]!["wavhaven_type"]!).Should().Be("license");
        ((string)session["metadata"]!["order_id"]!).Should().Be("1001");
        ((long)session["amount_total"]!).Should().Be((2 * 2900) + 999);
        session["line_items"]!["data"]!.AsArray().Should().HaveCount(2);

        var redirect = await _emulator.CompleteCheckoutAsync(result.Url.ToString());

        redirect.Should().Be(new Uri("https://shop.example/checkout/success?session_id=" + result.SessionId));
        var intent = _emulator.Events.Single(e => e.Type == "payment_intent.succeeded").DataObject();
        ((string)intent["metadata"]!["wavhaven_user_id"]!).Should().Be("order-1001");
        ((string)intent["metadata"]!["wavhaven_buyer"]!).Should().Be("guest");
    }

    /// <summary>
    /// Expiring a session, against the emulator's real answers: an open one expires and its page can no longer be paid, a
    /// second call is a success, a session the buyer paid first is <see cref="CheckoutExpireStatus.Completed"/>, an unknown one 404.
    /// </summary>
    [Fact]
    public async Task ExpireCheckout_ExpiresOpen_SucceedsAgain_ReportsPaid_AndThrows404ForUnknown()
    {
        await using var services = BuildServices();
        var checkout = services.GetRequiredService<ICheckoutService>();
        CheckoutRequest Request(string order) => new()
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", order),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
        };
        var open = await checkout.CreateCheckoutAsync(Request("order-2001"));
        var paid = await checkout.CreateCheckoutAsync(Request("order-2002"));
        await _emulator.CompleteCheckoutAsync(paid.Url.ToString());

        var expired = await checkout.ExpireCheckoutAsync(open.SessionId);
        var again = await checkout.ExpireCheckoutAsync(open.SessionId);
        var completed = await checkout.ExpireCheckoutAsync(paid.SessionId);
        var unknown = () => checkout.ExpireCheckoutAsync("cs_test_nosuch");

        expired.Status.Should().Be(CheckoutExpireStatus.Expired);
        expired.Session.Status.Should().Be("expired");
        again.Status.Should().Be(CheckoutExpireStatus.AlreadyExpired);
        completed.Status.Should().Be(CheckoutExpireStatus.Completed);
        completed.Session.PaymentStatus.Should().Be("paid");
        (await unknown.Should().ThrowAsync<Payments.Stripe.StripeApiException>()).Which.StatusCode.Should().Be(404);
        await FluentActions.Awaiting(() => _emulator.CompleteCheckoutAsync(open.Url.ToString())).Should().ThrowAsync<InvalidOperationException>();
        _emulator.Events.Count(e => e.Type == "checkout.session.expired").Should().Be(1);
    }

    /// <summary>
    /// <c>Uri.AbsoluteUri</c> (and <c>UriBuilder</c>, <c>QueryHelpers.AddQueryString</c>, <c>LinkGenerator</c>) escape the braces of
    /// the placeholder, which Stripe substitutes only as the literal <c>{CHECKOUT_SESSION_ID}</c>: the buyer must still land on a
    /// success URL that carries the session id once, not beside an unsubstituted <c>%7BCHECKOUT_SESSION_ID%7D</c>.
    /// </summary>
    [Fact]
    public async Task SuccessUrlWithTheEscapedPlaceholder_RedirectsWithTheSessionIdOnce()
    {
        await using var services = BuildServices();
        var successUrl = new Uri(new Uri("https://shop.example/"), "checkout/success?session_id={CHECKOUT_SESSION_ID}").AbsoluteUri;

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1002"),
            Lines = [CheckoutLine.ForPlan("beat-license")],
            FulfillmentType = "license",
            SuccessUrl = successUrl,
        });
        var redirect = await _emulator.CompleteCheckoutAsync(result.Url.ToString());

        successUrl.Should().Contain("%7BCHECKOUT_SESSION_ID%7D");
        redirect.Should().Be(new Uri("https://shop.example/checkout/success?session_id=" + result.SessionId));
    }

    /// <summary>A subscription bills all its items on one interval: Stripe refuses a cart of monthly and yearly prices, so the library must too.</summary>
    [Fact]
    public async Task CartOfMonthlyAndYearlyPrices_IsRefusedBeforeAnythingReachesStripe()
    {
        await using var services = BuildServices();
        var checkout = services.GetRequiredService<ICheckoutService>();

        var act = () => checkout.CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1003"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Year), CheckoutLine.ForPlan("team")],
            FulfillmentType = "pro",
        });

        (await act.Should().ThrowAsync<InvalidPaymentRequestException>()).Which.Field.Should().Be("Lines[1].Interval");
        var sessions = await _stripe.GetOkAsync("/v1/checkout/sessions");
        sessions["data"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task RegisteredBuyerWithAutomaticTax_OpensTheSession_AlthoughTheNewCustomerHasNoAddress()
    {
        await using var services = BuildServices();

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-77", "kim@example.com"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
            FulfillmentType = "pro",
            AutomaticTax = true,
        });

        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + result.SessionId);
        ((bool)session["automatic_tax"]!["enabled"]!).Should().BeTrue();
        var customer = await _stripe.GetOkAsync("/v1/customers/" + (string)session["customer"]!);
        customer["address"].Should().BeNull();
    }

    [Fact]
    public async Task RegisteredSubscription_CreatesTheCustomerBySearchThenCreate_AndFindsItAgainLater()
    {
        await using (var services = BuildServices())
        {
            var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
            {
                Buyer = CheckoutBuyer.Registered("user-42", "jane@example.com", "Jane Doe"),
                Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
                FulfillmentType = "pro",
                TrialDays = 7,
            });

            var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + result.SessionId);
            var customerId = (string)session["customer"]!;
            var customer = await _stripe.GetOkAsync("/v1/customers/" + customerId);
            ((string)customer["email"]!).Should().Be("jane@example.com");
            ((string)customer["name"]!).Should().Be("Jane Doe");
            ((string)customer["metadata"]!["wavhaven_user_id"]!).Should().Be("user-42");
            ((string)session["mode"]!).Should().Be("subscription");
            session["customer_email"].Should().BeNull();

            await _emulator.CompleteCheckoutAsync(result.SessionId);
            var subscription = _emulator.Events.Single(e => e.Type == "customer.subscription.created").DataObject();
            ((string)subscription["status"]!).Should().Be("trialing");
            ((string)subscription["metadata"]!["wavhaven_type"]!).Should().Be("pro");
            ((string)subscription["customer"]!).Should().Be(customerId);
        }

        // A fresh process (empty customer store) finds the same customer through Stripe's search.
        await using var restarted = BuildServices();
        var again = await restarted.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-42", "jane@example.com"),
            Lines = [CheckoutLine.ForPlan("team")],
            FulfillmentType = "team",
        });

        _emulator.Events.Count(e => e.Type == "customer.created").Should().Be(1);
        var secondSession = await _stripe.GetOkAsync("/v1/checkout/sessions/" + again.SessionId);
        ((string)secondSession["customer"]!).Should().Be((string)_emulator.Events.Single(e => e.Type == "customer.created").DataObject()["id"]!);
    }

    [Fact]
    public async Task RegisteredBuyer_WhoseStoredCustomerStripeNoLongerHas_ChecksOutWithANewCustomer()
    {
        // The customer map outlives the customer: deleted in the dashboard (an erasure request), "Delete all test data",
        // a map filled in test mode and read with a live key, or the sample restarted on its database against a fresh
        // emulator. Stripe answers 400 resource_missing for it, so each of that user's checkouts failed, for good.
        await using var services = BuildServices();
        await services.GetRequiredService<Wavhaven.Payments.Customers.ICustomerStore>()
            .SetCustomerIdAsync(new Wavhaven.Payments.Customers.CustomerKey("user-9"), "cus_DeletedInTheDashboard");

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-9", "lee@example.com"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
            FulfillmentType = "pro",
            IdempotencyKey = "checkout-user-9-pro",
        });

        var session = await _stripe.GetOkAsync("/v1/checkout/sessions/" + result.SessionId);
        var customerId = (string)session["customer"]!;
        customerId.Should().NotBe("cus_DeletedInTheDashboard");
        var customer = await _stripe.GetOkAsync("/v1/customers/" + customerId);
        ((string)customer["metadata"]!["wavhaven_user_id"]!).Should().Be("user-9");
        (await services.GetRequiredService<Wavhaven.Payments.Customers.ICustomerStore>().GetCustomerIdAsync(new Wavhaven.Payments.Customers.CustomerKey("user-9")))
            .Should().Be(customerId, "the map now names the customer Stripe has");
    }

    [Fact]
    public async Task PortalWithPlanSwitch_OpensOnTheConfirmationWhichSwitchesThePlan()
    {
        await using var services = BuildServices();
        var checkout = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(new CheckoutRequest
        {
            Buyer = CheckoutBuyer.Registered("user-7", "sam@example.com"),
            Lines = [CheckoutLine.ForPlan("pro", PriceInterval.Month)],
            FulfillmentType = "pro",
        });
        await _emulator.CompleteCheckoutAsync(checkout.SessionId);

        var portal = await services.GetRequiredService<IBillingPortalService>().CreatePortalSessionAsync(new BillingPortalRequest
        {
            UserId = "user-7",
            ReturnUrl = "https://shop.example/account",
            SwitchToPriceId = TestPlans.ProYearPrice,
        });

        portal.SessionId.Should().StartWith("bps_");
        portal.Url.Should().Be(new Uri(_emulator.BaseUrl, "billing/portal/" + portal.SessionId));
        var before = _emulator.Events.Count;
        using var confirmed = await HtmlForms.PressAsync(_stripe.Client, portal.Url, "Confirm");

        confirmed.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        confirmed.Headers.Location.Should().Be(new Uri("https://shop.example/account"));
        var updated = _emulator.Events.Skip(before).First(e => e.Type == "customer.subscription.updated").ToJsonObject()["data"]!;
        ((string)updated["object"]!["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.ProYearPrice);
        ((string)updated["previous_attributes"]!["items"]!["data"]![0]!["price"]!["id"]!).Should().Be(TestPlans.ProMonthPrice);
    }
}
