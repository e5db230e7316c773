namespace Wavhaven.Payments.Testing.Tests;

/// <summary>
/// StripeEmulator's class summary once said "Its clock moves only when told to (AdvanceClockAsync)". The emulator's clock
/// is its time provider's now plus the advances (StripeEmulatorOptions.TimeProvider says so), and the default provider is
/// the system clock: it moves on its own, and what falls due runs on the next API call or page view.
/// </summary>
public sealed class StripeEmulatorClockTests
{
    [Fact]
    public async Task Now_IsTheTimeProvidersTimePlusTheAdvances_AsTheClassSummarySays()
    {
        var time = new ManualTime(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero));
        await using var sut = await StripeEmulator.StartAsync(new StripeEmulatorOptions { TimeProvider = time });
        var before = sut.Now;

        time.Move(TimeSpan.FromHours(1)); // the outside world's time passes; nobody calls AdvanceClockAsync

        sut.Now.Should().Be(before + TimeSpan.FromHours(1), "the emulator's clock is its time provider's time plus the advances");
        await sut.AdvanceClockAsync(TimeSpan.FromDays(1));
        sut.Now.Should().Be(before + TimeSpan.FromHours(25));
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public void Move(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
