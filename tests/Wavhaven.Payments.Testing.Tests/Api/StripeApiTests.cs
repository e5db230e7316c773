using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Api;

public sealed class StripeApiTests : EmulatorTest
{
    [Fact]
    public async Task Request_WithoutKey_Is401WithStripeErrorAndRequestId()
    {
        using var anonymous = new StripeHttp(Emulator, secretKey: "");

        var answer = await anonymous.GetAsync("/v1/customers");

        answer.Status.Should().Be(HttpStatusCode.Unauthorized);
        answer.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        answer.Error["message"]!.GetValue<string>().Should().Contain("API key");
        answer.Header("Request-Id").Should().StartWith("req_");
    }

    [Fact]
    public async Task Request_WithAnotherKey_Is401WithoutEchoingTheKey()
    {
        using var wrong = new StripeHttp(Emulator, secretKey: "sk_test_somebodyElsesKey1234");

        var answer = await wrong.GetAsync("/v1/customers");

        answer.Status.Should().Be(HttpStatusCode.Unauthorized);
        answer.Body.ToJsonString().Should().NotContain("somebodyElsesKey");
    }

    [Fact]
    public async Task EveryAnswer_CarriesADistinctRequestId()
    {
        var first = await Stripe.GetAsync("/v1/customers");
        var second = await Stripe.GetAsync("/v1/customers/cus_missing");

        first.Header("Request-Id").Should().MatchRegex("^req_[A-Za-z0-9]+$");
        second.Header("Request-Id").Should().MatchRegex("^req_[A-Za-z0-9]+$").And.NotBe(first.Header("Request-Id"));
    }

    [Fact]
    public async Task UnknownParameter_Is400NamingIt()
    {
        var answer = await Stripe.PostAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&payment_method_types[0]=card");

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["type"]!.GetValue<string>().Should().Be("invalid_request_error");
        answer.Error["param"]!.GetValue<string>().Should().Be("payment_method_types");
        answer.Error["message"]!.GetValue<string>().Should().Be("Received unknown parameter: payment_method_types");
    }

    [Fact]
    public async Task UnknownNestedParameter_IsNamedInBracketForm()
    {
        var answer = await Stripe.PostAsync("/v1/checkout/sessions",
            "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1&line_items[0][colour]=red");

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["param"]!.GetValue<string>().Should().Be("line_items[0][colour]");
    }

    [Fact]
    public async Task MissingRequiredParameter_Is400NamingIt()
    {
        var noMode = await Stripe.PostAsync("/v1/checkout/sessions", "line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1");
        var noLines = await Stripe.PostAsync("/v1/checkout/sessions", "mode=payment");
        var noQuery = await Stripe.GetAsync("/v1/customers/search");

        noMode.Status.Should().Be(HttpStatusCode.BadRequest);
        noMode.Error["param"]!.GetValue<string>().Should().Be("mode");
        noMode.Error["code"]!.GetValue<string>().Should().Be("parameter_missing");
        noLines.Error["param"]!.GetValue<string>().Should().Be("line_items");
        noQuery.Error["param"]!.GetValue<string>().Should().Be("query");
    }

    [Fact]
    public async Task UnknownId_Is404ResourceMissingNamingTheId()
    {
        var answer = await Stripe.GetAsync("/v1/subscriptions/sub_doesNotExist");

        answer.Status.Should().Be(HttpStatusCode.NotFound);
        answer.Error["code"]!.GetValue<string>().Should().Be("resource_missing");
        answer.Error["param"]!.GetValue<string>().Should().Be("id");
        answer.Error["message"]!.GetValue<string>().Should().Contain("sub_doesNotExist");
    }

    [Fact]
    public async Task IdempotencyKey_SameRequest_ReplaysTheFirstAnswerAndCreatesOneObject()
    {
        const string Body = "email=jane%40example.com&metadata[wavhaven_user_id]=42";

        var first = await Stripe.PostAsync("/v1/customers", Body, idempotencyKey: "create-jane");
        var second = await Stripe.PostAsync("/v1/customers", Body, idempotencyKey: "create-jane");

        first.Status.Should().Be(HttpStatusCode.OK);
        second.Status.Should().Be(HttpStatusCode.OK);
        second.Body.ToJsonString().Should().Be(first.Body.ToJsonString());
        second.Header("Idempotent-Replayed").Should().Be("true");
        first.Header("Idempotent-Replayed").Should().BeNull();
        var list = await Stripe.GetOkAsync("/v1/customers?email=jane%40example.com");
        list["data"]!.AsArray().Should().ContainSingle();
        EventTypes().Count(type => type == "customer.created").Should().Be(1);
    }

    [Fact]
    public async Task IdempotencyKey_ParametersInAnotherOrder_StillReplays()
    {
        var first = await Stripe.PostAsync("/v1/customers", "email=a%40example.com&name=A", idempotencyKey: "k1");
        var second = await Stripe.PostAsync("/v1/customers", "name=A&email=a%40example.com", idempotencyKey: "k1");

        second.Id.Should().Be(first.Id);
    }

    [Fact]
    public async Task IdempotencyKey_OtherParameters_Is400IdempotencyError()
    {
        await Stripe.PostAsync("/v1/customers", "email=jane%40example.com", idempotencyKey: "create-jane");

        var answer = await Stripe.PostAsync("/v1/customers", "email=john%40example.com", idempotencyKey: "create-jane");

        answer.Status.Should().Be(HttpStatusCode.BadRequest);
        answer.Error["type"]!.GetValue<string>().Should().Be("idempotency_error");
        (await Stripe.GetOkAsync("/v1/customers?email=john%40example.com"))["data"]!.AsArray().Should().BeEmpty();
    }

    [Fact]
    public async Task IdempotencyKey_A24HoursOld_IsPruned_SoTheSameKeyStartsANewRequest()
    {
        // The library derives one key per user for creating its customer, and counts on Stripe deduplicating only for a day.
        const string Key = "wavhaven-customer-0123456789abcdef0123456789abcdef";
        var first = await Stripe.PostAsync("/v1/customers", "email=old%40example.com", idempotencyKey: Key);
        await Emulator.AdvanceClockAsync(TimeSpan.FromHours(23));
        var withinADay = await Stripe.PostAsync("/v1/customers", "email=old%40example.com", idempotencyKey: Key);
        await Emulator.AdvanceClockAsync(TimeSpan.FromHours(1));

        var sameAfterADay = await Stripe.PostAsync("/v1/customers", "email=old%40example.com", idempotencyKey: Key);
        var otherAfterThat = await Stripe.PostAsync("/v1/customers", "email=new%40example.com", idempotencyKey: Key);

        withinADay.Header("Idempotent-Replayed").Should().Be("true");
        withinADay.Id.Should().Be(first.Id);
        sameAfterADay.Header("Idempotent-Replayed").Should().BeNull();
        sameAfterADay.Id.Should().NotBe(first.Id, "the key was pruned: the request ran again");
        otherAfterThat.Status.Should().Be(HttpStatusCode.BadRequest, "the new request stored the key again, with its own parameters");
        otherAfterThat.Error["type"]!.GetValue<string>().Should().Be("idempotency_error");
    }

    [Fact]
    public async Task IdempotencyKey_RefusedRequest_IsNotStored()
    {
        var refused = await Stripe.PostAsync("/v1/checkout/sessions", "mode=payment", idempotencyKey: "k-refused");
        var retried = await Stripe.PostAsync("/v1/checkout/sessions", "mode=payment&line_items[0][price]=" + TestPlans.LicensePrice + "&line_items[0][quantity]=1", idempotencyKey: "k-refused");

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        retried.Status.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OtherApiVersion_IsRefused()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/customers");
        request.Headers.TryAddWithoutValidation("Stripe-Version", "2024-06-20");
        request.Headers.Authorization = new("Bearer", Emulator.SecretKey);
        using var client = new HttpClient { BaseAddress = Emulator.BaseUrl };

        using var response = await client.SendAsync(request);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        (await response.Content.ReadAsStringAsync()).Should().Contain("2026-10-28.endive");
    }

    [Fact]
    public async Task UnknownPath_Is404UnrecognizedUrl()
    {
        var answer = await Stripe.GetAsync("/v1/coupons");

        answer.Status.Should().Be(HttpStatusCode.NotFound);
        answer.Error["message"]!.GetValue<string>().Should().StartWith("Unrecognized request URL (GET: /v1/coupons)");
    }
}
