using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Wavhaven.Payments.Stripe;
using Wavhaven.Payments.Stripe.Serialization;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Stripe;

/// <summary>Objects read from webhooks and API answers fill their extension data in on first use, from their own JSON.</summary>
public class DeferredExtensionDataTests
{
    [Fact]
    public void SessionFromAnEvent_HasTheSameExtensionDataAsOneReadEagerly()
    {
        var session = StripeFixtures.Get("checkout.session");
        var body = Encoding.UTF8.GetBytes(new JsonObject { ["id"] = "evt_1", ["object"] = "event", ["type"] = "checkout.session.completed", ["data"] = new JsonObject { ["object"] = session.DeepClone() } }.ToJsonString());
        var eager = System.Text.Json.JsonSerializer.Deserialize(session.ToJsonString(), StripeJsonContext.Default.StripeCheckoutSession)!;

        var sut = StripeEvent.Parse(body).ToCheckoutSession();

        sut.ExtensionData.Should().NotBeNull().And.HaveCount(eager.ExtensionData!.Count).And.ContainKeys(eager.ExtensionData.Keys);
        sut.ExtensionData!["collected_information"].GetProperty("shipping_details").GetProperty("name").GetString().Should().Be("name");
        sut.ExtensionData.Should().BeSameAs(sut.ExtensionData, "it is read once");
        sut.ExtensionData.Should().NotContainKey("payment_status", "modelled fields have properties of their own");
    }

    [Fact]
    public void DeferredExtensionData_CanBeReplaced()
    {
        var json = Encoding.UTF8.GetBytes("""{"id":"cus_1","object":"customer","extra":1}""");
        var sut = StripeJson.Deserialize(json, StripeJsonContext.Default.StripeCustomer)!;

        sut.ExtensionData = null;

        sut.ExtensionData.Should().BeNull();
    }

    [Fact]
    public void ObjectWithNothingUnmodelled_HasNoExtensionData()
    {
        var sut = StripeJson.Deserialize(Encoding.UTF8.GetBytes("""{"id":"cus_1","object":"customer"}"""), StripeJsonContext.Default.StripeCustomer)!;

        sut.Id.Should().Be("cus_1");
        sut.ExtensionData.Should().BeNull();
    }

    [Fact]
    public void NestedStripeObjects_KeepTheirExtensionData()
    {
        var json = StripeFixtures.Get("subscription").ToJsonString();

        var sut = StripeJson.Deserialize(Encoding.UTF8.GetBytes(json), StripeJsonContext.Default.StripeSubscription)!;

        sut.Items!.Data[0].ExtensionData.Should().NotBeNull();
        sut.ExtensionData.Should().ContainKey("billing_cycle_anchor");
    }

    [Fact]
    public async Task AnswerOfTheApi_FillsItsExtensionDataOnFirstUse()
    {
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler);
        var client = services.GetRequiredService<IStripeClient>();
        handler.OnJson(HttpMethod.Post, "/v1/customers", """{"id":"cus_123","object":"customer","email":"jane@example.com","metadata":{},"invoice_prefix":"ABC"}""");

        var sut = await client.SendAsync(HttpMethod.Post, "/v1/customers", new StripeForm(), StripeJsonContext.Default.StripeCustomer);

        sut.Email.Should().Be("jane@example.com");
        sut.ExtensionData!["invoice_prefix"].GetString().Should().Be("ABC");
    }

    [Fact]
    public async Task AnswerOfTheApi_KeepsItsOwnBytes_ThroughTheCallsAfterIt()
    {
        // Answers that keep nothing of their JSON are read from a pooled copy; a Stripe object keeps its bytes for its
        // extension data, so they must not be that copy, which the next answers are read into.
        var handler = new StubStripeHandler();
        using var services = TestServices.Build(handler);
        var client = services.GetRequiredService<IStripeClient>();
        handler.OnJson(HttpMethod.Get, "/v1/customers/cus_1", """{"id":"cus_1","object":"customer","metadata":{},"invoice_prefix":"FIRST"}""");
        handler.OnJson(HttpMethod.Get, "/v1/customers/cus_2", """{"id":"cus_2","object":"customer","metadata":{},"invoice_prefix":"OTHER"}""");
        handler.OnJson(HttpMethod.Get, "/v1/customers", """{"object":"list","url":"/v1/customers","has_more":false,"data":[{"id":"cus_3","object":"customer","invoice_prefix":"LISTED"}]}""");

        var sut = await client.SendAsync(HttpMethod.Get, "/v1/customers/cus_1", null, StripeJsonContext.Default.StripeCustomer);
        for (var i = 0; i < 4; i++)
        {
            var other = await client.SendAsync(HttpMethod.Get, "/v1/customers/cus_2", null, StripeJsonContext.Default.StripeCustomer);
            var list = await client.SendAsync(HttpMethod.Get, "/v1/customers", null, StripeJsonContext.Default.StripeListStripeCustomer);
            other.ExtensionData!["invoice_prefix"].GetString().Should().Be("OTHER");
            list.Data.Should().ContainSingle().Which.ExtensionData!["invoice_prefix"].GetString().Should().Be("LISTED");
        }

        sut.Id.Should().Be("cus_1");
        sut.ExtensionData!["invoice_prefix"].GetString().Should().Be("FIRST");
    }

    [Fact]
    public async Task ConcurrentFirstReads_AllSeeTheSameExtensionData()
    {
        var json = Encoding.UTF8.GetBytes(StripeFixtures.Get("checkout.session").ToJsonString());
        for (var round = 0; round < 50; round++)
        {
            var sut = StripeJson.Deserialize(json, StripeJsonContext.Default.StripeCheckoutSession)!;
            using var start = new ManualResetEventSlim();
            var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
            {
                start.Wait();
                return sut.ExtensionData;
            })).ToArray();

            start.Set();
            var seen = await Task.WhenAll(readers);

            seen.Should().OnlyContain(data => data != null && ReferenceEquals(data, seen[0]));
        }
    }
}
