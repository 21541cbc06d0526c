using Microsoft.Extensions.Time.Testing;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// A machine's clocks as NTP or a restored virtual machine leave them: timestamps (the monotonic clock) follow
/// the fake clock, while the wall clock is stepped by <see cref="Step"/> once the fake clock has passed
/// <see cref="StepAt"/>. Timers are the fake clock's.
/// </summary>
public sealed class SteppedWallClock(FakeTimeProvider inner) : TimeProvider
{
    public DateTimeOffset StepAt { get; set; } = DateTimeOffset.MaxValue;

    public TimeSpan Step { get; set; }

    public override DateTimeOffset GetUtcNow()
    {
        var now = inner.GetUtcNow();
        return now >= StepAt ? now + Step : now;
    }

    public override long GetTimestamp() => inner.GetTimestamp();

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        inner.CreateTimer(callback, state, dueTime, period);
}
