using System.Net;
using Wavhaven.Payments.Testing.Tests.Support;

namespace Wavhaven.Payments.Testing.Tests.Api;

/// <summary>
/// Stripe's idempotency rules (facts, section 3; docs.stripe.com/idempotency): a result is saved once the endpoint began
/// executing, and a request refused in validation saves nothing because it did nothing. Either way a retry under the
/// same key never does the work twice, and a refused request leaves no trace.
/// </summary>
public sealed class IdempotencyTests : EmulatorTest
{
    private static readonly string LongKey = new('k', 41);

    [Fact]
    public async Task IdempotencyKey_RequestAnsweredWithAnError_IsNotRunAgainByItsRetry()
    {
        // The expansion fails after the customer was made: Stripe either refuses it before running (no customer) or keeps
        // the answer under the key (the retry replays it). The emulator made the customer, answered 400 and kept nothing.
        const string Body = "email=twice%40example.com&expand[0]=no_such_property";

        var first = await Stripe.PostAsync("/v1/customers", Body, idempotencyKey: "create-twice");
        var retry = await Stripe.PostAsync("/v1/customers", Body, idempotencyKey: "create-twice");

        first.Status.Should().Be(HttpStatusCode.BadRequest);
        retry.Status.Should().Be(HttpStatusCode.BadRequest);
        var customers = await Stripe.GetOkAsync("/v1/customers?email=twice%40example.com");
        customers["data"]!.AsArray().Count.Should().BeLessThanOrEqualTo(1, "one key, one operation: the retry must not create a second customer");
        EventTypes().Count(type => type == "customer.created").Should().BeLessThanOrEqualTo(1);
    }

    [Fact]
    public async Task RefusedCustomerUpdate_ChangesNothing()
    {
        var customer = await Stripe.PostOkAsync("/v1/customers", "email=old%40example.com");
        var id = (string)customer["id"]!;

        var refused = await Stripe.PostAsync("/v1/customers/" + id, $"email=new%40example.com&metadata[ok]=1&metadata[{LongKey}]=v", idempotencyKey: "update-1");

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        var after = await Stripe.GetOkAsync("/v1/customers/" + id);
        ((string)after["email"]!).Should().Be("old@example.com", "a request refused in validation does nothing");
        after["metadata"]!.AsObject().Should().BeEmpty();
    }

    [Fact]
    public async Task RefusedMetadata_Over50Keys_IsNotStored()
    {
        var customer = await Stripe.PostOkAsync("/v1/customers", "email=many%40example.com");
        var id = (string)customer["id"]!;
        var body = string.Join('&', Enumerable.Range(0, 51).Select(i => $"metadata[k{i}]=v"));

        var refused = await Stripe.PostAsync("/v1/customers/" + id, body);

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        var after = await Stripe.GetOkAsync("/v1/customers/" + id);
        after["metadata"]!.AsObject().Count.Should().Be(0, "Stripe refused the update; the customer keeps its metadata");
    }

    [Fact]
    public async Task RefusedSubscriptionUpdate_ChangesNothing()
    {
        var subscriptionId = await SubscribeAsync();
        var count = Emulator.Events.Count;

        var refused = await Stripe.PostAsync("/v1/subscriptions/" + subscriptionId, $"cancel_at_period_end=true&metadata[{LongKey}]=v", idempotencyKey: "cancel-1");

        refused.Status.Should().Be(HttpStatusCode.BadRequest);
        var after = await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId);
        ((bool)after["cancel_at_period_end"]!).Should().BeFalse("the refused request must not cancel the subscription");
        after["cancel_at"].Should().BeNull();
        EventTypesSince(count).Should().BeEmpty();
    }

    [Fact]
    public async Task IdempotencyKey_ValueHoldingAnEncodedAmpersand_IsNotTheSameParametersAsTwoPairs()
    {
        // email "a&name=b" against email "a" with name "b": other parameters, so the same key is an idempotency_error.
        var first = await Stripe.PostAsync("/v1/customers", "email=a%26name%3Db", idempotencyKey: "amp");
        var second = await Stripe.PostAsync("/v1/customers", "email=a&name=b", idempotencyKey: "amp");

        first.Status.Should().Be(HttpStatusCode.OK);
        second.Status.Should().Be(HttpStatusCode.BadRequest, "the parameters differ: {0}", second.Body.ToJsonString());
        second.Error["type"]!.GetValue<string>().Should().Be("idempotency_error");
    }
}
