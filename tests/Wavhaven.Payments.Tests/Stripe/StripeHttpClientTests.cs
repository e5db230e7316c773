using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Stripe;

public class StripeHttpClientTests
{
    private const string CustomerJson = """{"id":"cus_123","object":"customer","email":"jane@example.com","metadata":{}}""";

    private static (IStripeClient Sut, StubStripeHandler Handler) Create(Action<StripePaymentsOptions>? configure = null)
    {
        var handler = new StubStripeHandler();
        var services = TestServices.Build(handler, configure);
        return (services.GetRequiredService<IStripeClient>(), handler);
    }

    private static Task<StripeCustomer> PostCustomer(IStripeClient sut, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        sut.SendAsync(HttpMethod.Post, "/v1/customers", new StripeForm { ["email"] = "jane@example.com" }, StripeJsonContext.Default.StripeCustomer, new StripeRequestOptions(idempotencyKey), cancellationToken);

    [Fact]
    public async Task Post_SendsPinnedVersionBearerKeyFormBodyAndGeneratedIdempotencyKey()
    {
        var (sut, handler) = Create();
        handler.OnJson(HttpMethod.Post, "/v1/customers", CustomerJson);

        var customer = await PostCustomer(sut);

        customer.Id.Should().Be("cus_123");
        var request = handler.Requests.Should().ContainSingle().Subject;
        request.Uri.Should().Be(new Uri("https://api.stripe.com/v1/customers"));
        request.Header("Authorization").Should().Be("Bearer " + TestServices.SecretKey);
        request.Header("Stripe-Version").Should().Be("2026-10-28.endive");
        request.Header("Content-Type").Should().Be("application/x-www-form-urlencoded");
        request.Header("Idempotency-Key").Should().MatchRegex("^wavhaven-[0-9a-f]{32}$");
        request.Header("User-Agent").Should().StartWith("Wavhaven.Payments/");
        request.Body.Should().Be("email=jane%40example.com");
    }

    [Fact]
    public async Task Post_CallerIdempotencyKey_IsSentAsGiven()
    {
        var (sut, handler) = Create();
        handler.OnJson(HttpMethod.Post, "/v1/customers", CustomerJson);

        await PostCustomer(sut, "order-42");

        handler.Requests.Single().Header("Idempotency-Key").Should().Be("order-42");
    }

    [Fact]
    public async Task Get_PutsParametersInTheQueryAndSendsNoIdempotencyKey()
    {
        var (sut, handler) = Create();
        handler.OnJson(HttpMethod.Get, "/v1/customers/search", """{"object":"search_result","data":[],"has_more":false,"next_page":null}""");

        await sut.SearchCustomersAsync("metadata['wavhaven_user_id']:'42'", page: null, CancellationToken.None);

        var request = handler.Requests.Single();
        request.Query.Should().Be("query=metadata[%27wavhaven_user_id%27]%3A%2742%27&limit=10");
        request.Header("Idempotency-Key").Should().BeNull();
        request.Body.Should().BeEmpty();
    }

    [Fact]
    public async Task ApiBaseUrl_WithAPath_IsKept()
    {
        var (sut, handler) = Create(options => options.ApiBaseUrl = new Uri("http://127.0.0.1:12111/stripe"));
        handler.OnJson(HttpMethod.Post, "/stripe/v1/customers", CustomerJson);

        await PostCustomer(sut);

        handler.Requests.Single().Uri.Should().Be(new Uri("http://127.0.0.1:12111/stripe/v1/customers"));
    }

    [Fact]
    public async Task RateLimited_ThenOk_IsRetriedOnceWithTheSameIdempotencyKey()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.TooManyRequests, "invalid_request_error", "Too many requests", code: "rate_limit"))
            .Then(StubStripeHandler.Json(CustomerJson));

        var customer = await PostCustomer(sut);

        customer.Id.Should().Be("cus_123");
        handler.Requests.Should().HaveCount(2);
        handler.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Should().ContainSingle().Which.Should().NotBeNullOrEmpty();
        handler.Requests.Select(r => r.Body).Distinct().Should().ContainSingle();
    }

    [Theory]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    public async Task RetryableStatus_IsRetriedUntilItSucceeds(HttpStatusCode status)
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(status, "api_error", "Try again"))
            .Then(StubStripeHandler.Error(status, "api_error", "Try again"))
            .Then(StubStripeHandler.Json(CustomerJson));

        await PostCustomer(sut, "key-1");

        handler.Requests.Should().HaveCount(3).And.OnlyContain(r => r.Header("Idempotency-Key") == "key-1");
    }

    [Fact]
    public async Task ServerError_OnEveryAttempt_StopsAfterMaxNetworkRetriesAndSurfacesTheLastError()
    {
        var (sut, handler) = Create(options => options.MaxNetworkRetries = 1);
        handler.Then(StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "Boom", requestId: "req_1"))
            .Then(StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "Boom", requestId: "req_2"));

        var act = () => PostCustomer(sut);

        var error = (await act.Should().ThrowAsync<StripeApiException>()).Which;
        error.StatusCode.Should().Be(500);
        error.RequestId.Should().Be("req_2");
        handler.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task ShouldRetryFalse_OnAServerError_IsNotRetried()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.InternalServerError, "api_error", "No", headers: ("Stripe-Should-Retry", "false")));

        await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeApiException>();

        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task ShouldRetryTrue_OnAClientError_IsRetried()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "Lock timeout", code: "lock_timeout", headers: ("Stripe-Should-Retry", "true")))
            .Then(StubStripeHandler.Json(CustomerJson));

        await PostCustomer(sut);

        handler.Requests.Should().HaveCount(2);
    }

    [Fact]
    public async Task BadRequest_SurfacesTypedExceptionWithParamAndRequestId_WithoutRetry()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "No such price: 'price_nope'", param: "line_items[0][price]", code: "resource_missing", requestId: "req_abc"));

        var act = () => PostCustomer(sut, "key-400");

        var error = (await act.Should().ThrowAsync<StripeApiException>()).Which;
        error.StatusCode.Should().Be(400);
        error.Type.Should().Be(StripeErrorTypes.InvalidRequestError);
        error.Code.Should().Be("resource_missing");
        error.Param.Should().Be("line_items[0][price]");
        error.RequestId.Should().Be("req_abc");
        error.StripeMessage.Should().Be("No such price: 'price_nope'");
        error.DocUrl.Should().Be("https://stripe.com/docs/error-codes");
        error.Method.Should().Be("POST");
        error.Path.Should().Be("/v1/customers");
        error.IdempotencyKey.Should().Be("key-400");
        error.Message.Should().Contain("param line_items[0][price]").And.Contain("req_abc").And.NotContain(TestServices.SecretKey);
        handler.Requests.Should().ContainSingle();
    }

    /// <summary>
    /// Stripe's message about a parameter can quote the parameter's value ("Invalid email address: …", "Invalid string:
    /// …"), and apps log exceptions whole: the message, which is documented never to contain the request's parameters,
    /// named the parameter and its problem but also carried the buyer's email. Stripe's own text stays in StripeMessage.
    /// </summary>
    [Fact]
    public async Task ParamError_WhoseStripeMessageQuotesTheValue_KeepsTheValueOutOfTheExceptionMessage()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "Invalid email address: jane@example.com", param: "email", code: "email_invalid", requestId: "req_email"));

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeApiException>()).Which;

        error.StripeMessage.Should().Be("Invalid email address: jane@example.com", "Stripe's own words stay available to the caller");
        error.Message.Should().Contain("param email").And.Contain("email_invalid").And.Contain("req_email");
        error.ToString().Should().NotContain("jane@example.com", "the exception's message and its ToString() are what apps log");
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, "invalid_request_error")]
    [InlineData(HttpStatusCode.Unauthorized, "invalid_request_error")]
    [InlineData(HttpStatusCode.PaymentRequired, "card_error")]
    [InlineData(HttpStatusCode.Forbidden, "invalid_request_error")]
    [InlineData(HttpStatusCode.NotFound, "invalid_request_error")]
    public async Task ClientErrors_AreNotRetried(HttpStatusCode status, string type)
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Error(status, type, "Nope"));

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeApiException>()).Which;

        error.StatusCode.Should().Be((int)status);
        error.Type.Should().Be(type);
        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task DeclinedCard_CarriesTheDeclineCode()
    {
        var (sut, handler) = Create();
        handler.Then(StubStripeHandler.Json("""{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}""", HttpStatusCode.PaymentRequired));

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeApiException>()).Which;

        error.DeclineCode.Should().Be("insufficient_funds");
        error.Code.Should().Be("card_declined");
    }

    [Fact]
    public async Task ErrorWithoutAStripeBody_StillSurfacesTheStatus()
    {
        var (sut, handler) = Create(options => options.MaxNetworkRetries = 0);
        handler.Then(new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>bad gateway</html>") });

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeApiException>()).Which;

        error.StatusCode.Should().Be(502);
        error.Type.Should().BeNull();
    }

    /// <summary>
    /// A 200 that is not Stripe's JSON (a proxy's sign-in page, an empty or cut-off body): Stripe may have done the work,
    /// so the caller needs the call, its request id and its idempotency key, not a serializer's exception.
    /// </summary>
    [Theory]
    [InlineData("<html><body>Please sign in to the proxy</body></html>", "text/html")]
    [InlineData("", "application/json")]
    [InlineData("{\"id\":\"cus_123\",\"object\":\"customer\",\"email\":\"jane@exa", "application/json")]
    public async Task SuccessWithAnUnreadableBody_SurfacesAsAStripeApiExceptionNamingTheCall(string body, string contentType)
    {
        var (sut, handler) = Create();
        handler.On(HttpMethod.Post, "/v1/customers", _ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, System.Text.Encoding.UTF8, contentType) };
            response.Headers.TryAddWithoutValidation("Request-Id", "req_unreadable");
            return response;
        });

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut, "order-7-customer")).Should().ThrowAsync<StripeApiException>()).Which;

        error.StatusCode.Should().Be(200);
        error.Method.Should().Be("POST");
        error.Path.Should().Be("/v1/customers");
        error.IdempotencyKey.Should().Be("order-7-customer");
        error.RequestId.Should().Be("req_unreadable");
        error.Message.Should().StartWith("Stripe answered POST /v1/customers with ").And.EndWith("[request req_unreadable]");
        handler.Requests.Should().ContainSingle("a 200 is not retried");
    }

    /// <summary>
    /// An answer in a charset .NET does not know (a proxy's page, say) made the serializer's reader throw
    /// <see cref="InvalidOperationException"/>, which escaped: a 200 as something the caller cannot tell from a bug, and a
    /// 502 not as the StripeApiException its status alone makes.
    /// </summary>
    [Theory]
    [InlineData(HttpStatusCode.OK)]
    [InlineData(HttpStatusCode.BadGateway)]
    public async Task AnswerInAnUnknownCharset_SurfacesAsAStripeApiException(HttpStatusCode status)
    {
        var (sut, handler) = Create(options => options.MaxNetworkRetries = 0);
        handler.On(HttpMethod.Post, "/v1/customers", _ =>
        {
            var content = new ByteArrayContent("<html>Bad gateway</html>"u8.ToArray());
            content.Headers.TryAddWithoutValidation("Content-Type", "text/html; charset=x-no-such-charset");
            var response = new HttpResponseMessage(status) { Content = content };
            response.Headers.TryAddWithoutValidation("Request-Id", "req_charset");
            return response;
        });

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut, "order-8-customer")).Should().ThrowAsync<StripeApiException>()).Which;

        error.StatusCode.Should().Be((int)status);
        error.IdempotencyKey.Should().Be("order-8-customer");
        error.RequestId.Should().Be("req_charset");
    }

    [Fact]
    public async Task NetworkFailures_AreRetriedWithTheSameKey_ThenSucceed()
    {
        var (sut, handler) = Create();
        handler.Then((_, _) => throw new HttpRequestException("Connection reset by peer"))
            .Then((_, _) => throw new HttpRequestException("Connection reset by peer"))
            .Then(StubStripeHandler.Json(CustomerJson));

        await PostCustomer(sut);

        handler.Requests.Should().HaveCount(3);
        handler.Requests.Select(r => r.Header("Idempotency-Key")).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task NetworkFailures_OnEveryAttempt_ThrowConnectionExceptionCountingAttempts()
    {
        var (sut, handler) = Create(options => options.MaxNetworkRetries = 1);
        handler.Then((_, _) => throw new HttpRequestException("No route to host"))
            .Then((_, _) => throw new HttpRequestException("No route to host"));

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeConnectionException>()).Which;

        error.Attempts.Should().Be(2);
        error.IsTimeout.Should().BeFalse();
        error.InnerException.Should().BeOfType<HttpRequestException>();
    }

    [Fact]
    public async Task SlowAnswer_TimesOutPerAttempt_AndSurfacesAsTimeout()
    {
        var (sut, handler) = Create(options =>
        {
            options.MaxNetworkRetries = 0;
            options.RequestTimeout = TimeSpan.FromSeconds(1);
        });
        handler.Then(async (_, token) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), token);
            return StubStripeHandler.Json(CustomerJson);
        });

        var error = (await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowAsync<StripeConnectionException>()).Which;

        error.IsTimeout.Should().BeTrue();
        error.Attempts.Should().Be(1);
        error.Message.Should().Contain("within 1 s");
    }

    [Fact]
    public async Task CallerCancellation_StopsAtOnceWithoutRetry()
    {
        var (sut, handler) = Create();
        using var cancellation = new CancellationTokenSource();
        handler.Then(async (_, token) =>
        {
            await cancellation.CancelAsync();
            await Task.Delay(TimeSpan.FromSeconds(30), token);
            return StubStripeHandler.Json(CustomerJson);
        });

        await FluentActions.Awaiting(() => PostCustomer(sut, cancellationToken: cancellation.Token)).Should().ThrowAsync<OperationCanceledException>();

        handler.Requests.Should().ContainSingle();
    }

    [Theory]
    [InlineData("key-1\r\nStripe-Account: acct_other", null)]
    [InlineData("clé-1", null)]
    [InlineData("key-1", "acct_1\nX-Other: 1")]
    public async Task HeaderValuesThatAreNotVisibleAscii_AreRefusedBeforeSending(string idempotencyKey, string? stripeAccount)
    {
        // Headers are added without validation: a line break would end the header and start one of the caller's
        // choosing, and a non-ASCII character would fail the send as if the network had (and be retried).
        var (sut, handler) = Create();

        var act = () => sut.SendAsync(HttpMethod.Post, "/v1/customers", new StripeForm(), StripeJsonContext.Default.StripeCustomer, new StripeRequestOptions(idempotencyKey, stripeAccount));

        (await act.Should().ThrowAsync<ArgumentException>()).Which.ParamName.Should().Be("options");
        handler.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task OtherFailures_SurfaceAsThemselvesWithoutRetry()
    {
        // Neither a network failure nor a timeout (a handler of the app's that throws, say): not Stripe's to retry, and
        // the caller gets the very exception, not a wrapper or a missing response.
        var (sut, handler) = Create();
        handler.Then((_, _) => throw new InvalidOperationException("A handler of the app's failed."));

        await FluentActions.Awaiting(() => PostCustomer(sut)).Should().ThrowExactlyAsync<InvalidOperationException>()
            .WithMessage("A handler of the app's failed.");

        handler.Requests.Should().ContainSingle();
    }

    [Theory]
    [InlineData(0, 1.0, 0.5)]
    [InlineData(1, 1.0, 0.5)]
    [InlineData(2, 1.0, 1.0)]
    [InlineData(2, 0.0, 0.5)]
    [InlineData(3, 1.0, 2.0)]
    [InlineData(3, 0.0, 1.0)]
    [InlineData(4, 1.0, 4.0)]
    [InlineData(5, 1.0, 5.0)]
    [InlineData(9, 0.0, 2.5)]
    public void RetryDelay_FollowsStripesCappedBackoffWithJitter(int retriesDone, double random, double expectedSeconds)
    {
        StripeHttpClient.RetryDelay(retriesDone, random).TotalSeconds.Should().BeApproximately(expectedSeconds, 0.0001);
    }
}
