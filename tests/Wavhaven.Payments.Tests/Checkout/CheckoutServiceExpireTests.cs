using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Checkout;

/// <summary>
/// <see cref="ICheckoutService.ExpireCheckoutAsync"/>: the exact request, and what each of Stripe's answers becomes. Stripe
/// answers 400 for any session that is not open, so the service reads the session to tell expired from complete.
/// </summary>
public sealed class CheckoutServiceExpireTests
{
    private const string SessionId = "cs_test_a1B2c3";
    private const string ExpirePath = "/v1/checkout/sessions/" + SessionId + "/expire";
    private const string NotExpirable = "Only Checkout Sessions with a status in [\\\"open\\\"] can be expired.";

    private static string Session(string status, string paymentStatus = "unpaid") => new JsonObject
    {
        ["id"] = SessionId,
        ["object"] = "checkout.session",
        ["status"] = status,
        ["payment_status"] = paymentStatus,
        ["url"] = status == "open" ? "https://checkout.stripe.com/c/pay/" + SessionId : null,
        ["metadata"] = new JsonObject { ["order_id"] = "1001" },
    }.ToJsonString();

    private static (ICheckoutService Sut, StubStripeHandler Handler, ServiceProvider Services) Create(StubStripeHandler handler)
    {
        var services = TestServices.Build(handler);
        return (services.GetRequiredService<ICheckoutService>(), handler, services);
    }

    [Fact]
    public async Task ExpireCheckoutAsync_OpenSession_PostsAnEmptyFormToTheExpirePath_AndAnswersExpired()
    {
        var (sut, handler, services) = Create(new StubStripeHandler().OnJson(HttpMethod.Post, ExpirePath, Session("expired")));
        using var _ = services;

        var result = await sut.ExpireCheckoutAsync(SessionId);

        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Method.Should().Be(HttpMethod.Post);
        request.Uri.Should().Be(new Uri("https://api.stripe.com" + ExpirePath));
        request.Body.Should().BeEmpty();
        request.Header("Content-Type").Should().Be("application/x-www-form-urlencoded");
        request.Header("Idempotency-Key").Should().MatchRegex("^wavhaven-expire-[0-9a-f]{32}$");
        request.Header("Stripe-Version").Should().Be("2026-10-28.endive");
        request.Header("Authorization").Should().Be("Bearer " + TestServices.SecretKey);
        result.Status.Should().Be(CheckoutExpireStatus.Expired);
        result.IsCompleted.Should().BeFalse();
        result.Session.Id.Should().Be(SessionId);
        result.Session.Status.Should().Be("expired");
        result.Session.Metadata.Should().Contain("order_id", "1001");
    }

    [Fact]
    public async Task ExpireCheckoutAsync_TwoCalls_SendTwoIdempotencyKeys()
    {
        var (sut, handler, services) = Create(new StubStripeHandler().OnJson(HttpMethod.Post, ExpirePath, Session("expired")));
        using var _ = services;

        await sut.ExpireCheckoutAsync(SessionId);
        await sut.ExpireCheckoutAsync(SessionId);

        handler.Requests.Select(r => r.Header("Idempotency-Key")).Should().OnlyHaveUniqueItems("a later call must not get the replay of an earlier failure");
    }

    [Fact]
    public async Task ExpireCheckoutAsync_AlreadyExpired_ReadsTheSession_AndSucceeds()
    {
        var (sut, handler, services) = Create(new StubStripeHandler()
            .On(HttpMethod.Post, ExpirePath, _ => StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", NotExpirable + " This Checkout Session has a status of \\\"expired\\\"."))
            .OnJson(HttpMethod.Get, "/v1/checkout/sessions/" + SessionId, Session("expired")));
        using var _ = services;

        var result = await sut.ExpireCheckoutAsync(SessionId);

        result.Status.Should().Be(CheckoutExpireStatus.AlreadyExpired);
        result.IsCompleted.Should().BeFalse();
        handler.Requests.Select(r => (r.Method.Method, r.Path)).Should().Equal(("POST", ExpirePath), ("GET", "/v1/checkout/sessions/" + SessionId));
    }

    [Theory]
    [InlineData("paid")]
    [InlineData("unpaid")] // a bank debit on its way: the buyer completed it all the same
    public async Task ExpireCheckoutAsync_CompletedFirst_AnswersCompleted_NotExpired(string paymentStatus)
    {
        var (sut, _, services) = Create(new StubStripeHandler()
            .On(HttpMethod.Post, ExpirePath, _ => StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", NotExpirable + " This Checkout Session has a status of \\\"complete\\\"."))
            .OnJson(HttpMethod.Get, "/v1/checkout/sessions/" + SessionId, Session("complete", paymentStatus)));
        using var _ = services;

        var result = await sut.ExpireCheckoutAsync(SessionId);

        result.Status.Should().Be(CheckoutExpireStatus.Completed);
        result.IsCompleted.Should().BeTrue();
        result.Session.PaymentStatus.Should().Be(paymentStatus);
    }

    /// <summary>
    /// A bank debit that failed leaves its session complete and unpaid for good: answered Completed, it would keep the app
    /// from ever opening another checkout for the purchase. Only the payment tells it from one still on its way.
    /// </summary>
    [Theory]
    [InlineData("requires_payment_method", CheckoutExpireStatus.PaymentFailed)]
    [InlineData("processing", CheckoutExpireStatus.Completed)]
    public async Task ExpireCheckoutAsync_CompletedUnpaid_AsksThePaymentWhetherItFailed(string intentStatus, CheckoutExpireStatus expected)
    {
        var session = JsonNode.Parse(Session("complete", "unpaid"))!;
        session["payment_intent"] = "pi_test_1";
        var (sut, handler, services) = Create(new StubStripeHandler()
            .On(HttpMethod.Post, ExpirePath, _ => StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", NotExpirable))
            .OnJson(HttpMethod.Get, "/v1/checkout/sessions/" + SessionId, session.ToJsonString())
            .OnJson(HttpMethod.Get, "/v1/payment_intents/pi_test_1", "{\"id\":\"pi_test_1\",\"object\":\"payment_intent\",\"status\":\"" + intentStatus + "\"}"));
        using var _ = services;

        var result = await sut.ExpireCheckoutAsync(SessionId);

        result.Status.Should().Be(expected);
        result.IsCompleted.Should().Be(expected == CheckoutExpireStatus.Completed);
        handler.Requests.Select(r => r.Path).Should().Equal(ExpirePath, "/v1/checkout/sessions/" + SessionId, "/v1/payment_intents/pi_test_1");
    }

    [Fact]
    public async Task ExpireCheckoutAsync_UnknownSession_Throws404_WithoutReadingIt()
    {
        var (sut, handler, services) = Create(new StubStripeHandler()
            .On(HttpMethod.Post, ExpirePath, _ => StubStripeHandler.Error(HttpStatusCode.NotFound, "invalid_request_error", "No such checkout.session: 'cs_test_a1B2c3'", "session", "resource_missing")));
        using var _ = services;

        var act = () => sut.ExpireCheckoutAsync(SessionId);

        var thrown = (await act.Should().ThrowAsync<StripeApiException>()).Which;
        thrown.StatusCode.Should().Be(404);
        thrown.Code.Should().Be("resource_missing");
        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task ExpireCheckoutAsync_RefusedWhileStillOpen_ThrowsStripesRefusal()
    {
        var (sut, _, services) = Create(new StubStripeHandler()
            .On(HttpMethod.Post, ExpirePath, _ => StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "Something else is wrong.", code: "something_else"))
            .OnJson(HttpMethod.Get, "/v1/checkout/sessions/" + SessionId, Session("open")));
        using var _ = services;

        var act = () => sut.ExpireCheckoutAsync(SessionId);

        (await act.Should().ThrowAsync<StripeApiException>()).Which.Code.Should().Be("something_else");
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData(".")]
    [InlineData("..")]
    public async Task ExpireCheckoutAsync_NotASessionId_IsRefusedAndSendsNothing(string sessionId)
    {
        var (sut, handler, services) = Create(new StubStripeHandler().OnJson(HttpMethod.Post, "*", Session("expired")));
        using var _ = services;

        var act = () => sut.ExpireCheckoutAsync(sessionId);

        (await act.Should().ThrowAsync<ArgumentException>()).WithParameterName("sessionId");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ExpireCheckoutAsync_Null_IsRefused()
    {
        var (sut, handler, services) = Create(new StubStripeHandler());
        using var _ = services;

        await FluentActions.Awaiting(() => sut.ExpireCheckoutAsync(null!)).Should().ThrowAsync<ArgumentNullException>().WithParameterName("sessionId");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task ExpireCheckoutAsync_IdWithASlash_StaysOneSegment()
    {
        var (sut, handler, services) = Create(new StubStripeHandler().OnJson(HttpMethod.Post, "*", Session("expired")));
        using var _ = services;

        await sut.ExpireCheckoutAsync("cs_test_a/b");

        handler.Requests.Should().ContainSingle().Which.Path.Should().Be("/v1/checkout/sessions/cs_test_a%2Fb/expire");
    }

    /// <summary>An implementation written before the method (an app's test double) still compiles, and says what it lacks.</summary>
    [Fact]
    public async Task ExpireCheckoutAsync_OnAnOlderImplementation_ThrowsNotSupported()
    {
        ICheckoutService sut = new OlderCheckoutService();

        var act = () => sut.ExpireCheckoutAsync(SessionId);

        (await act.Should().ThrowAsync<NotSupportedException>()).WithMessage("*OlderCheckoutService*ExpireCheckoutAsync*");
    }

    private sealed class OlderCheckoutService : ICheckoutService
    {
        public Task<CheckoutResult> CreateCheckoutAsync(CheckoutRequest request, CancellationToken cancellationToken = default) => throw new NotImplementedException();

        public Task<CheckoutSyncResult> SyncCheckoutAsync(string sessionId, CancellationToken cancellationToken = default) => throw new NotImplementedException();
    }
}
