using System.Net;
using System.Text.Json.Nodes;
using FluentAssertions;
using FluentAssertions.Execution;
using Wavhaven.Payments.AspNetCore.Tests.Support;
using Wavhaven.Payments.Tests.Support;
using Xunit;

namespace Wavhaven.Payments.AspNetCore.Tests.Webhooks;

/// <summary>Events from connected accounts (Connect): every call made on their behalf carries Stripe-Account.</summary>
public sealed class ConnectAccountTests
{
    /// <summary>A live key, with the test catalog's one plan that has no live price taken out.</summary>
    private static void LiveKey(StripePaymentsOptions options)
    {
        options.SecretKey = "sk_live_51TestKeyDoNotLogMe";
        options.Plans.Remove(options.Plans.Single(plan => plan.Id == "euro-pack"));
    }

    /// <summary>
    /// A live Connect endpoint receives the test-mode events of accounts connected in live mode too ("the live Events and
    /// test Events are sent to your live Connect webhook endpoint": Stripe recommends checking <c>livemode</c>). A
    /// connected account's test-mode purchase, paid with a test card, must not fulfil anything of a live app, and its
    /// test-mode objects cannot be read with the live key (Stripe answers 404: "a similar object exists in test mode"),
    /// so a test-mode invoice must not fail the delivery (500, retried for three days, or dead in queued mode) either.
    /// </summary>
    [Fact]
    public async Task TestModeConnectEvents_AtALiveEndpoint_FulfilNothing_AndDoNotFail()
    {
        await using var app = await WebhookTestApp.StartAsync(LiveKey);
        app.Stripe.On(HttpMethod.Get, "/v1/*", _ => StubStripeHandler.Error(
            HttpStatusCode.NotFound, "invalid_request_error", "No such object; a similar object exists in test mode, but a live mode key was used to make this request.", code: "resource_missing"));
        var purchase = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_test_connected_test_mode"), account: "acct_conn");
        var invoice = TestEvents.Event("invoice.paid", TestEvents.Invoice("in_test_mode", "sub_test_mode"), account: "acct_conn");
        purchase["livemode"] = false;
        invoice["livemode"] = false;

        using var purchaseResponse = await app.PostAsync(purchase);
        using var invoiceResponse = await app.PostAsync(invoice);

        using var scope = new AssertionScope();
        app.Recorder.Fulfilled.Should().BeEmpty("a test-mode purchase must not fulfil a live order");
        app.Recorder.Changes.Should().BeEmpty();
        invoiceResponse.StatusCode.Should().Be(HttpStatusCode.OK, "a test-mode event is no failure of the live app's");
        (await purchaseResponse.Content.ReadAsStringAsync()).Should().Be("ignored");
        (await invoiceResponse.Content.ReadAsStringAsync()).Should().Be("ignored");
    }

    /// <summary>The same events in live mode are the app's: the check is on the mode, not on the account.</summary>
    [Fact]
    public async Task LiveConnectEvents_AtALiveEndpoint_AreHandled()
    {
        await using var app = await WebhookTestApp.StartAsync(LiveKey);
        app.Stripe.OnJson(HttpMethod.Get, "/v1/checkout/sessions/cs_live_connected/line_items", """{"object":"list","data":[],"has_more":false}""");
        var purchase = TestEvents.Event("checkout.session.completed", TestEvents.CheckoutSession("cs_live_connected"), account: "acct_conn");
        purchase["livemode"] = true;

        using var response = await app.PostAsync(purchase);

        (await response.Content.ReadAsStringAsync()).Should().Be("processed");
        await app.Recorder.Fulfilled.Should().ContainSingle().Which.GetLineItemsAsync();
        app.Stripe.Requests.Should().ContainSingle().Which.Header("Stripe-Account").Should().Be("acct_conn");
    }

    [Fact]
    public async Task ConnectSubscriptionEvent_ReadsTheSubscriptionAndTheCustomer_OnTheConnectedAccount()
    {
        await using var app = await WebhookTestApp.StartAsync();
        var subscription = TestEvents.Subscription("sub_connect", "price_pro_month");
        subscription["metadata"] = new JsonObject();
        subscription["customer"] = "cus_connect";
        app.Stripe.OnJson(HttpMethod.Get, "/v1/subscriptions/sub_connect", subscription.ToJsonString());
        var customer = StripeFixtures.Get("customer");
        customer["id"] = "cus_connect";
        customer["metadata"] = new JsonObject { ["wavhaven_user_id"] = "user-c" };
        app.Stripe.OnJson(HttpMethod.Get, "/v1/customers/cus_connect", customer.ToJsonString());

        using var response = await app.PostAsync(TestEvents.Event("customer.subscription.updated", subscription, account: "acct_conn"));
        using var invoice = await app.PostAsync(TestEvents.Event("invoice.paid", TestEvents.Invoice("in_connect", "sub_connect"), account: "acct_conn"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        invoice.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Changes.Select(c => (c.Account, c.UserId)).Should().Equal(("acct_conn", "user-c"), ("acct_conn", "user-1"));
        app.Stripe.Requests.Should().HaveCount(3).And.OnlyContain(r => r.Header("Stripe-Account") == "acct_conn");
    }

    [Fact]
    public async Task ConnectSubscriptionEvent_Whose_SubscriptionIsGone_FallsBackAfterAConnected404()
    {
        await using var app = await WebhookTestApp.StartAsync();
        app.Stripe.On(HttpMethod.Get, "/v1/subscriptions/sub_gone", _ => StubStripeHandler.Error(HttpStatusCode.NotFound, "invalid_request_error", "No such subscription: 'sub_gone'", code: "resource_missing"));

        using var response = await app.PostAsync(TestEvents.Event("customer.subscription.deleted", TestEvents.Subscription("sub_gone", "price_pro_month", status: "canceled"), account: "acct_conn"));

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        app.Recorder.Changes.Should().ContainSingle().Which.Account.Should().Be("acct_conn");
        app.Stripe.Requests.Should().ContainSingle().Which.Header("Stripe-Account").Should().Be("acct_conn");
    }
}
