namespace Wavhaven.Payments.Testing.Tests.State;

/// <summary>
/// A monthly subscription anchored on the 31st bills on the last day of each shorter month and returns to the 31st
/// afterwards (Stripe's billing cycle anchor: Jan 31 → Feb 28 → Mar 31 → Apr 30), rather than drifting to the 28th for good.
/// </summary>
public sealed class MonthEndAnchorTests : Support.EmulatorTest
{
    private static readonly DateTimeOffset Anchor = new(2027, 1, 31, 12, 0, 0, TimeSpan.Zero);

    protected override void Configure(StripeEmulatorOptions options) => options.StartTime = Anchor;

    [Fact]
    public async Task MonthlyRenewals_OfASubscriptionAnchoredOnThe31st_KeepTheAnchorDay()
    {
        var subscriptionId = await SubscribeAsync();
        var anchor = DateTimeOffset.FromUnixTimeSeconds((long)(await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["billing_cycle_anchor"]!);

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(30)); // to March 2: past the first period's end, Feb 28

        var item = (await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!;
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_start"]!).Should().Be(anchor.AddMonths(1), "the first period ends on the last day of February");
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!).Should().Be(anchor.AddMonths(2), "Stripe bills on the anchor's day again in March (the 31st), not on the 28th");

        await Emulator.AdvanceClockAsync(TimeSpan.FromDays(30)); // to April 1: past March 31

        item = (await Stripe.GetOkAsync("/v1/subscriptions/" + subscriptionId))["items"]!["data"]![0]!;
        DateTimeOffset.FromUnixTimeSeconds((long)item["current_period_end"]!).Should().Be(anchor.AddMonths(3), "April's period ends on its last day, the 30th");
    }
}
