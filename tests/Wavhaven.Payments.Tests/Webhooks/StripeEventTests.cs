using System.Text;
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
}
