namespace Wavhaven.Payments.Tests.Support;

/// <summary>A wall clock that steps either way; its timestamps (monotonic) only ever move forward, with real time's steps.</summary>
public sealed class SteppingClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;
    private long _monotonic = 1_000_000_000;

    public DateTimeOffset Now
    {
        get => _now;
        set
        {
            // Only the forward part of a change is time that passed; the step back is the wall clock's alone.
            if (value > _now)
            {
                _monotonic += (value - _now).Ticks;
            }

            _now = value;
        }
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _monotonic;
}
