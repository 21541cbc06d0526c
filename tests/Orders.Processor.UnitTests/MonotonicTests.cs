using Microsoft.Extensions.Time.Testing;
using Orders.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

public sealed class MonotonicTests
{
    [Fact]
    public void After_IsDueOnceTheDelayHasPassed_WhateverTheWallClockDoes()
    {
        var fake = new FakeTimeProvider();
        var time = new SteppedWallClock(fake) { StepAt = fake.GetUtcNow(), Step = TimeSpan.FromHours(-1) };
        var due = time.After(TimeSpan.FromSeconds(5));

        fake.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(time.HasCome(due));

        time.Step = TimeSpan.FromHours(3);
        Assert.False(time.HasCome(due));
        fake.Advance(TimeSpan.FromSeconds(0.1));
        Assert.True(time.HasCome(due));
    }

    [Fact]
    public void After_ANegativeDelayIsNow_AndTheLongestDelayIsNeverInThePast()
    {
        var time = new FakeTimeProvider();

        Assert.True(time.HasCome(time.After(TimeSpan.FromSeconds(-3))));
        var never = time.After(TimeSpan.MaxValue);
        Assert.True(never > time.GetTimestamp());
        time.Advance(TimeSpan.FromDays(365 * 100));
        Assert.False(time.HasCome(never));
    }

    [Fact]
    public void Span_ConvertsTimestampTicksAtTheClocksFrequency()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Monotonic.Span(new FakeTimeProvider(), 15_000_000));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), Monotonic.Span(TimeProvider.System, TimeProvider.System.TimestampFrequency * 3 / 2));
    }
}
