using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Wavhaven.Payments.Tests.Support;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>The envelope read: a Checkout session's routing fields come with it, without the session.</summary>
public class StripeEventTests
{
    private static StripeEvent Parse(string dataObject) =>
        StripeEvent.Parse(Encoding.UTF8.GetBytes("""{"id":"evt_1","object":"event","type":"checkout.session.completed","data":{"object":""" + dataObject + "}}"));

    [Fact]
    public void CheckoutSession_RoutingFieldsAreReadWithTheEnvelope()
    {
        var sut = Parse("""{"metadata":{"order_id":"7","wavhaven_type":"license"},"id":"cs_1","nested":{"id":"x","payment_status":"no","metadata":{"wavhaven_type":"no"}},"payment_status":"paid","object":"checkout.session"}""");

        sut.CheckoutRoute.Should().Be(new CheckoutSessionRoute("cs_1", "paid", "license"));
        sut.DataObjectType.Should().Be("checkout.session");
        sut.GetCheckoutRoute().Should().BeSameAs(sut.CheckoutRoute);
    }

    [Fact]
    public void EscapedNamesAndNullValues_AreReadAsTheSerializerReadsThem()
    {
        var sut = Parse("""{"\u0069d":"cs_2","object":"checkout.session","payment_status":null,"metadata":{"wavhaven_type":null}}""");

        sut.CheckoutRoute.Should().Be(new CheckoutSessionRoute("cs_2", null, string.Empty));
    }

    [Fact]
    public void IrregularSession_HasNoRoute_AndTheFullReadReportsIt()
    {
        var sut = Parse("""{"id":"cs_3","object":"checkout.session","metadata":{"wavhaven_type":42}}""");

        sut.CheckoutRoute.Should().BeNull();
        sut.Invoking(e => e.GetCheckoutRoute()).Should().Throw<System.Text.Json.JsonException>();
    }

    [Fact]
    public void OtherObjects_HaveNoCheckoutRoute()
    {
        var sut = Parse("""{"id":"in_1","object":"invoice","metadata":{}}""");

        sut.CheckoutRoute.Should().BeNull();
        sut.DataObjectType.Should().Be("invoice");
        sut.Invoking(e => e.GetCheckoutRoute()).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void EveryStripeExampleObject_IsReadAsAJsonDocumentReadsIt()
    {
        foreach (var resource in StripeFixtures.ResourceNames)
        {
            foreach (var indented in new[] { false, true })
            {
                var dataObject = StripeFixtures.Get(resource);
                if (resource == "checkout.session")
                {
                    dataObject["metadata"] = new JsonObject { ["order_id"] = "o_1", ["wavhaven_type"] = "license" };
                    dataObject["payment_status"] = "paid";
                }

                var body = Event(dataObject, indented);

                var sut = StripeEvent.Parse(body);

                var expected = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("object");
                var because = $"{resource} ({(indented ? "indented" : "compact")})";
                sut.Id.Should().Be("evt_fixture", because);
                sut.Type.Should().Be("fixture.event", because);
                Encoding.UTF8.GetString(sut.DataObjectJson.Span).Should().Be(expected.GetRawText(), because);
                Encoding.UTF8.GetString(sut.PreviousAttributesJson!.Value.Span).Should().Be(
                    JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("previous_attributes").GetRawText(), because);
                sut.DataObjectType.Should().Be(expected.TryGetProperty("object", out var type) ? type.GetString() : null, because);
                sut.CheckoutRoute.Should().Be(
                    resource == "checkout.session" ? new CheckoutSessionRoute(expected.GetProperty("id").GetString()!, "paid", "license") : null,
                    because);
            }
        }
    }

    [Theory]
    [InlineData("""{"id_x":"no","payment_intent":{"id":"pi_1","payment_status":"unpaid","metadata":{"wavhaven_type":"no"}},"custom_text":{"submit":{"message":"id: cs_fake, payment_status: no"}},"id":"cs_4","lines":[{"object":"item"},"payment_status"],"object":"checkout.session","payment_status":"unpaid","metadata":{"wavhaven_type":"license"},"xid":"no","xpayment_status":"no","url":"https://checkout.stripe.com/c/pay/cs_4#a{}"}""")]
    [InlineData("""{"id_x":"no","payment_intent":{"id":"pi_1","payment_status":"unpaid","metadata":{"wavhaven_type":"no"}},"custom_text":{"submit":{"message":"\"id\":\"cs_fake\",\"payment_status\":\"no\""}},"id":"cs_4","object":"checkout.session","payment_status":"unpaid","metadata":{"wavhaven_type":"license"},"xid":"no","xpayment_status":"no"}""")]
    public void LookalikeNames_NestedFields_AndFieldsInsideStrings_AreNotTakenForTheSessionsOwn(string dataObject)
    {
        var sut = Parse(dataObject);

        sut.CheckoutRoute.Should().Be(new CheckoutSessionRoute("cs_4", "unpaid", "license"));
    }

    [Fact]
    public void ObjectsWithMoreFieldsThanTheScannerKeeps_AreStillRead()
    {
        var dataObject = StripeFixtures.Get("checkout.session");
        for (var i = 0; i < 300; i++)
        {
            dataObject[$"extra_{i}"] = i;
        }

        dataObject["metadata"] = new JsonObject { ["wavhaven_type"] = "license" };
        dataObject["payment_status"] = "paid";

        var sut = StripeEvent.Parse(Event(dataObject, indented: false));

        sut.CheckoutRoute.Should().Be(new CheckoutSessionRoute(dataObject["id"]!.GetValue<string>(), "paid", "license"));
    }

    [Theory]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_1","lines":[1,2}}}""", "a bracket closes the wrong container")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_1","lines":[1,2]""", "data.object never ends")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_1"}}} {"id":"evt_2"}""", "something follows the event")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_1"}},"request":{"id":[}}""", "the envelope itself is malformed")]
    [InlineData("""{"id":"evt_1","type":"t","created":99999999999999,"data":{"object":{"id":"cs_1"}}}""", "the created time is after the last date there is")]
    [InlineData("""{"id":"evt_1","type":"t","created":-99999999999999,"data":{"object":{"id":"cs_1"}}}""", "the created time is before the first date there is")]
    [InlineData("""{"id":"evt_\ud800","type":"t","data":{"object":{"id":"cs_1"}}}""", "the id is an escaped lone surrogate, valid JSON but not text")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_\udc00","object":"checkout.session"}}}""", "the session's id is an escaped lone surrogate")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{:1}}}""", "data.object's first property has no name")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{ :"cs_1"}}}""", "data.object's first property has no name, after a space")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{"id":"cs_1",:2}}}""", "a later property of data.object has no name")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{}},"extra":{"a":tru}}""", "a field the envelope does not know holds an invalid literal")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{}},"request":{"id":"req_1","x":[1,]}}""", "request holds an array with a trailing comma")]
    [InlineData("""{"id":"evt_1","type":"t","pending_webhooks":{"a"},"data":{"object":{}}}""", "pending_webhooks holds a property without a value")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{},"extra":{"a":}}}""", "data holds another member that is not JSON")]
    [InlineData("""{"id":"evt_1","type":"t","data":{"object":{},"previous_attributes":[1,]}}""", "previous_attributes is not an object, and not JSON either")]
    public void MalformedBodies_AreRefused(string body, string because) =>
        FluentActions.Invoking(() => StripeEvent.Parse(Encoding.UTF8.GetBytes(body))).Should().Throw<FormatException>(because);

    /// <summary>Most events (checkout.session.completed, invoice.paid, …) carry no previous_attributes.</summary>
    [Theory]
    [InlineData("")]
    [InlineData(""","previous_attributes":null""")]
    public void AnEventWithoutPreviousAttributes_HasNone(string previousAttributes)
    {
        var sut = StripeEvent.Parse(Encoding.UTF8.GetBytes("""{"id":"evt_1","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1","object":"invoice"}""" + previousAttributes + "}}"));

        sut.PreviousAttributesJson.Should().BeNull();
        sut.PreviousAttributes.Should().BeNull();
    }

    [Fact]
    public void AnUpdateEvent_CarriesItsPreviousAttributes()
    {
        var sut = StripeEvent.Parse(Encoding.UTF8.GetBytes("""{"id":"evt_1","object":"event","type":"customer.subscription.updated","data":{"object":{"id":"sub_1","object":"subscription"},"previous_attributes":{"status":"trialing"}}}"""));

        Encoding.UTF8.GetString(sut.PreviousAttributesJson!.Value.Span).Should().Be("""{"status":"trialing"}""");
        sut.PreviousAttributes!.Value.GetProperty("status").GetString().Should().Be("trialing");
    }

    [Fact]
    public void AMalformedValueInsideDataObject_IsReportedWhenTheObjectIsRead()
    {
        var sut = Parse("""{"id":"cs_5","object":"checkout.session","custom_fields":[{"key":tru}],"payment_status":"paid","metadata":{"wavhaven_type":"license"}}""");

        sut.CheckoutRoute.Should().Be(new CheckoutSessionRoute("cs_5", "paid", "license"));
        sut.Invoking(e => e.ToCheckoutSession()).Should().Throw<JsonException>();
        sut.Invoking(e => e.DataObject).Should().Throw<JsonException>();
    }

    private static byte[] Event(JsonObject dataObject, bool indented)
    {
        // Stripe's own order of the envelope's fields.
        var envelope = new JsonObject
        {
            ["id"] = "evt_fixture",
            ["object"] = "event",
            ["api_version"] = "2026-10-28.endive",
            ["created"] = 1_780_000_000,
            ["data"] = new JsonObject { ["object"] = dataObject, ["previous_attributes"] = new JsonObject { ["status"] = "open" } },
            ["livemode"] = false,
            ["pending_webhooks"] = 1,
            ["request"] = new JsonObject { ["id"] = "req_1", ["idempotency_key"] = "key_1" },
            ["type"] = "fixture.event",
        };
        return Encoding.UTF8.GetBytes(envelope.ToJsonString(new JsonSerializerOptions { WriteIndented = indented }));
    }
}
