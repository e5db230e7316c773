using System.Text;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments.Tests.Webhooks;

/// <summary>The public Verify's tolerance: only zero turns the age check off.</summary>
public class StripeWebhookSignatureToleranceTests
{
    private const string Secret = "whsec_test_secret";
    private const string Payload = """{"id":"evt_test_1","object":"event","type":"checkout.session.completed"}""";

    [Fact]
    public void Verify_NegativeTolerance_IsRefused_NotTakenAsNoAgeCheck()
    {
        // A delivery captured a week ago, replayed now. A host computing its tolerance (configured minus a clock-skew
        // margin, say) can end up below zero: Verify must not then accept signatures of any age.
        var signedAt = DateTimeOffset.FromUnixTimeSeconds(1700000000);
        var body = Encoding.UTF8.GetBytes(Payload);
        var header = StripeWebhookSignature.CreateHeader(body, Secret, signedAt);

        var act = () => StripeWebhookSignature.Verify(body, header, [Secret], TimeSpan.FromMinutes(-5), signedAt.AddDays(7));

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("tolerance");
    }
}
