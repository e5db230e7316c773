using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Checkout;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;
using Wavhaven.Payments.Tests.Support;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>
/// Creating a checkout reads only the session's id, URL and expiry from Stripe's answer: it must read them exactly as
/// the full <see cref="StripeCheckoutSession"/> model does, and refuse what the model refuses.
/// </summary>
public class CheckoutSessionLinkTests
{
    private static StripeCheckoutSessionLink? Read(string json) =>
        StripeJson.Deserialize(Encoding.UTF8.GetBytes(json), StripeJsonContext.Default.StripeCheckoutSessionLink);

    private static StripeCheckoutSession? ReadFull(string json) =>
        StripeJson.Deserialize(Encoding.UTF8.GetBytes(json), StripeJsonContext.Default.StripeCheckoutSession);

    private static void ShouldMatchTheFullModel(string json)
    {
        var sut = Read(json)!;
        var full = ReadFull(json)!;
        sut.Id.Should().Be(full.Id);
        sut.Url.Should().Be(full.Url);
        sut.ExpiresAt.Should().Be(full.ExpiresAt);
    }

    /// <summary>Stripe's example session, open, with a URL, metadata, and nested objects that have ids and URLs of their own.</summary>
    private static JsonObject RealisticSession()
    {
        var session = StripeFixtures.Get("checkout.session");
        session["url"] = "https://checkout.stripe.com/c/pay/cs_test_a1B2c3#fidkdWxOYHwnPyd1blpxYHZxWjA0";
        session["metadata"] = new JsonObject { ["wavhaven_type"] = "license", ["note"] = "\"quoted\" & <tagged> – ünïcödé" };
        session["line_items"] = new JsonObject
        {
            ["object"] = "list",
            ["url"] = "/v1/checkout/sessions/cs_test_a1B2c3/line_items",
            ["data"] = new JsonArray(new JsonObject { ["id"] = "li_1", ["object"] = "item", ["expires_at"] = "not a timestamp" }),
        };
        session["customer"] = new JsonObject { ["id"] = "cus_123", ["object"] = "customer", ["url"] = 42 };
        return session;
    }

    [Fact]
    public void RealisticAnswer_ReadsIdUrlAndExpiryAsTheFullModelDoes()
    {
        var json = RealisticSession().ToJsonString();

        var sut = Read(json)!;

        sut.Id.Should().StartWith("cs_test_");
        sut.Url.Should().Be("https://checkout.stripe.com/c/pay/cs_test_a1B2c3#fidkdWxOYHwnPyd1blpxYHZxWjA0");
        sut.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1234567890));
        ShouldMatchTheFullModel(json);
    }

    [Fact]
    public void FieldsAfterNestedObjectsAndArrays_AreStillFound()
    {
        const string json = """
            {"object":"checkout.session","custom_fields":[{"key":"a","dropdown":{"options":[{"label":"x","value":"y"}]}}],
             "metadata":{"url":"https://not.this/","id":"nope"},"expires_at":1767312000,"consent":null,
             "payment_method_types":["card","link"],"url":"https://checkout.stripe.com/c/pay/cs_test_late","id":"cs_test_late"}
            """;

        var sut = Read(json)!;

        sut.Should().Be(new StripeCheckoutSessionLink("cs_test_late", "https://checkout.stripe.com/c/pay/cs_test_late", DateTimeOffset.FromUnixTimeSeconds(1767312000)));
        ShouldMatchTheFullModel(json);
    }

    [Fact]
    public void EscapedStringsAndNames_AreUnescaped()
    {
        const string json = """{"\u0069d":"cs_test_\u0041b","url":"https:\/\/checkout.stripe.com\/c\/pay\/cs?a=1\u0026b=%C3%A9#x","expires\u005Fat":1767312000}""";

        var sut = Read(json)!;

        sut.Id.Should().Be("cs_test_Ab");
        sut.Url.Should().Be("https://checkout.stripe.com/c/pay/cs?a=1&b=%C3%A9#x");
        sut.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1767312000));
        ShouldMatchTheFullModel(json);
    }

    [Theory]
    [InlineData("""{"object":"checkout.session"}""")]
    [InlineData("""{"id":null,"url":null,"expires_at":null}""")]
    [InlineData("""{}""")]
    public void MissingOrNullFields_AreEmptyIdAndNoUrlOrExpiry(string json)
    {
        var sut = Read(json)!;

        sut.Should().Be(new StripeCheckoutSessionLink(string.Empty, null, null));
        ReadFull(json)!.Url.Should().BeNull();
        ReadFull(json)!.ExpiresAt.Should().BeNull();
    }

    [Fact]
    public void RepeatedNames_TheLastOneWins_AsInTheFullModel()
    {
        const string json = """{"id":"cs_first","url":"https://first/","expires_at":1,"id":"cs_last","url":"https://last/","expires_at":2}""";

        Read(json).Should().Be(new StripeCheckoutSessionLink("cs_last", "https://last/", DateTimeOffset.FromUnixTimeSeconds(2)));
        ShouldMatchTheFullModel(json);
    }

    [Fact]
    public void NamesDifferingInCase_AreNotTheFields()
    {
        const string json = """{"ID":"cs_upper","Url":"https://upper/","Expires_At":1}""";

        Read(json).Should().Be(new StripeCheckoutSessionLink(string.Empty, null, null));
        ShouldMatchTheFullModel(json);
    }

    [Fact]
    public void NullAnswer_IsNull()
    {
        Read("null").Should().BeNull();
    }

    [Theory]
    [InlineData("""[]""")]
    [InlineData("""  "cs_test" """)]
    [InlineData("""{"id":42}""")]
    [InlineData("""{"url":true}""")]
    [InlineData("""{"url":{"href":"https://x/"}}""")]
    [InlineData("""{"expires_at":"1767312000"}""")]
    [InlineData("""{"expires_at":1767312000.5}""")]
    [InlineData("""{"id":"cs_test","url":"https://x/" """)]
    [InlineData("""{"id":"cs_test","metadata":{"a":"b"},"url":"https://x/"}}""")]
    [InlineData("""{"id":"cs_test","metadata":{"a":}}""")]
    public void MalformedAnswers_AreJsonExceptions_AsInTheFullModel(string json)
    {
        var link = () => Read(json);
        var full = () => ReadFull(json);

        link.Should().Throw<JsonException>();
        full.Should().Throw<JsonException>();
    }

    [Fact]
    public async Task CreateCheckoutAsync_ReturnsTheLinkOfARealisticAnswer()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", RealisticSession().ToJsonString());
        using var services = TestServices.Build(handler);

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        result.SessionId.Should().StartWith("cs_test_");
        result.Url.Should().Be(new Uri("https://checkout.stripe.com/c/pay/cs_test_a1B2c3#fidkdWxOYHwnPyd1blpxYHZxWjA0"));
        result.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1234567890));
    }

    [Fact]
    public async Task CreateCheckoutAsync_AnswerWithoutExpiry_HasNoExpiry()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", """{"id":"cs_test_1","url":"https://checkout.stripe.com/c/pay/cs_test_1"}""");
        using var services = TestServices.Build(handler);

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        result.ExpiresAt.Should().BeNull();
    }

    /// <summary>The link is read from a pooled copy of the answer's buffered stream, unless something read from that stream first.</summary>
    [Fact]
    public async Task CreateCheckoutAsync_AnswerWhoseStreamAHandlerPeekedAt_IsStillReadWhole()
    {
        var handler = new StubStripeHandler();
        handler.On(HttpMethod.Post, "/v1/checkout/sessions", async (_, cancellationToken) =>
        {
            var answer = new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(RealisticSession().ToJsonString(), Encoding.UTF8, "application/json") };
            await answer.Content.LoadIntoBufferAsync(cancellationToken);
            var stream = await answer.Content.ReadAsStreamAsync(cancellationToken);
            stream.ReadByte().Should().Be('{');
            return answer;
        });
        using var services = TestServices.Build(handler);

        var result = await services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        result.SessionId.Should().StartWith("cs_test_");
        result.ExpiresAt.Should().Be(DateTimeOffset.FromUnixTimeSeconds(1234567890));
    }

    [Fact]
    public async Task CreateCheckoutAsync_NullAnswer_IsAStripeApiExceptionForAnEmptyBody()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", "null");
        using var services = TestServices.Build(handler);

        var act = () => services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest());

        (await act.Should().ThrowAsync<StripeApiException>()).WithMessage("*empty body*");
    }

    [Fact]
    public async Task CreateCheckoutAsync_StripeErrorBody_IsAStripeApiExceptionWithItsDetails()
    {
        var handler = new StubStripeHandler();
        handler.Then(StubStripeHandler.Error(HttpStatusCode.BadRequest, "invalid_request_error", "No such price: 'price_nope'", param: "line_items[0][price]", code: "resource_missing", requestId: "req_checkout"));
        using var services = TestServices.Build(handler);

        var act = () => services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest("order-1001-checkout"));

        var error = (await act.Should().ThrowAsync<StripeApiException>()).Which;
        error.StatusCode.Should().Be(400);
        error.Type.Should().Be(StripeErrorTypes.InvalidRequestError);
        error.Code.Should().Be("resource_missing");
        error.Param.Should().Be("line_items[0][price]");
        error.RequestId.Should().Be("req_checkout");
        error.IdempotencyKey.Should().Be("order-1001-checkout");
        error.Path.Should().Be("/v1/checkout/sessions");
        handler.Requests.Should().ContainSingle();
    }

    [Fact]
    public async Task CreateCheckoutAsync_MalformedAnswer_IsRefusedAsUnreadable_NotReadPartly()
    {
        var handler = new StubStripeHandler();
        handler.OnJson(HttpMethod.Post, "/v1/checkout/sessions", """{"id":"cs_test_1","url":""");
        using var services = TestServices.Build(handler);

        var act = () => services.GetRequiredService<ICheckoutService>().CreateCheckoutAsync(GuestRequest("order-1001-checkout"));

        var error = (await act.Should().ThrowAsync<StripeApiException>()).Which;
        error.InnerException.Should().BeOfType<JsonException>("the whole answer is validated, not only the fields read");
        error.IdempotencyKey.Should().Be("order-1001-checkout", "the caller can send it again for Stripe's answer");
    }

    private static CheckoutRequest GuestRequest(string? idempotencyKey = null) => new()
    {
        Buyer = CheckoutBuyer.Guest("jane@example.com", "order-1001"),
        Lines = [CheckoutLine.ForPlan("beat-license")],
        FulfillmentType = "license",
        IdempotencyKey = idempotencyKey,
    };
}
