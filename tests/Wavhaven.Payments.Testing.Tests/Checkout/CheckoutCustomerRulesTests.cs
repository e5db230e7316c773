using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Checkout;

/// <summary>
/// What Stripe's Checkout does to customers beyond what the request names, which app tests must see as in production.
/// </summary>
public sealed class CheckoutCustomerRulesTests : EmulatorTest
{
    /// <summary>
    /// Stripe's <c>customer</c> parameter: "If the Customer does not have a valid email, Checkout will set the email entered
    /// during the session on the Customer." A registered buyer may be passed without an email
    /// (<c>CheckoutBuyer.Registered(userId)</c>, "null to let the buyer enter it on Checkout"), so the library creates their
    /// customer without one. The emulator kept the typed email on the session only: the customer stayed without an email,
    /// so the user's next checkout let them type another one, where Stripe shows the saved one read-only and sends receipts
    /// and invoices there.
    /// </summary>
    [Theory]
    [InlineData("payment")]
    [InlineData("subscription")]
    public async Task CustomerWithoutAnEmail_GetsTheEmailTheBuyerEnteredOnCheckout(string mode)
    {
        var customerId = (string)(await Stripe.PostOkAsync("/v1/customers", "name=Sam&metadata[wavhaven_user_id]=user-7"))["id"]!;
        var price = mode == "payment" ? TestPlans.LicensePrice : TestPlans.ProMonthPrice;
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=" + mode + "&line_items[0][price]=" + price + "&line_items[0][quantity]=1&customer=" + customerId
            + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");
        var page = new Uri((string)session["url"]!);

        using var form = new FormUrlEncodedContent([new("payment", "succeeds"), new("email", "sam@example.com")]);
        using var answer = await Stripe.Client.PostAsync(page, form);

        answer.StatusCode.Should().Be(HttpStatusCode.SeeOther);
        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)session["id"]!);
        ((string)completed["customer_details"]!["email"]!).Should().Be("sam@example.com");
        var customer = await Stripe.GetOkAsync("/v1/customers/" + customerId);
        ((string?)customer["email"]).Should().Be("sam@example.com", "Checkout sets the entered email on a customer that had none");

        // The user's next checkout shows that email read-only, as Stripe's does.
        var next = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&customer=" + customerId
            + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");
        var html = await Stripe.Client.GetStringAsync((string)next["url"]!);
        html.Should().MatchRegex("<input type=\"email\" name=\"email\" value=\"sam@example.com\" readonly>");
    }

    /// <summary>
    /// Stripe's no-cost orders (docs.stripe.com/payments/checkout/no-cost-orders): "If the customer property isn't set, the
    /// Checkout Session automatically creates a new Customer object. This means guest customers aren't supported." The
    /// emulator completed a free guest order without a customer (and without <c>customer.created</c>), so an app's tests of
    /// its free orders saw <c>customer: null</c> where production has a customer.
    /// </summary>
    [Fact]
    public async Task FreeGuestOrder_CreatesACustomer_AsStripeDoesForNoCostOrders()
    {
        var session = await Stripe.PostOkAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price_data][currency]=usd&line_items[0][price_data][unit_amount]=0"
            + "&line_items[0][price_data][product_data][name]=Free%20sample%20pack&line_items[0][quantity]=1"
            + "&customer_email=guest%40example.com&client_reference_id=order-1002"
            + "&success_url=https%3A%2F%2Fshop.example%2Fok&cancel_url=https%3A%2F%2Fshop.example%2Fcart");

        await Emulator.CompleteCheckoutAsync((string)session["id"]!);

        var completed = await Stripe.GetOkAsync("/v1/checkout/sessions/" + (string)session["id"]!);
        ((string)completed["payment_status"]!).Should().Be("no_payment_required");
        ((string?)completed["customer"]).Should().StartWith("cus_", "a no-cost order always gets a customer");
        EventTypes().Should().Equal("customer.created", "checkout.session.completed");
        var customer = await Stripe.GetOkAsync("/v1/customers/" + (string)completed["customer"]!);
        ((string)customer["email"]!).Should().Be("guest@example.com");
    }
}
