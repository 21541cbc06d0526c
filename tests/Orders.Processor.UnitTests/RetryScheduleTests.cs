using Orders.Processor.Failures;

namespace Orders.Processor.UnitTests;

public sealed class RetryScheduleTests
{
    [Fact]
    public void DelayAfter_SameSeed_GivesTheSameDelays()
    {
        var a = new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(7));
        var b = new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30), new Random(7));

        Assert.Equal(Enumerable.Range(1, 5).Select(a.DelayAfter), Enumerable.Range(1, 5).Select(b.DelayAfter));
    }

    [Fact]
    public void DelayAfter_GrowsExponentiallyOnAverage()
    {
        var schedule = new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), new Random(1));

        double Mean(int failures) => Enumerable.Range(0, 400).Average(_ => schedule.DelayAfter(failures).TotalMilliseconds);

        // Decorrelated jitter starts near 2x base; from the second retry on the median doubles each time.
        var first = Mean(1);
        var second = Mean(2);
        var fourth = Mean(4);
        var sixth = Mean(6);
        Assert.InRange(first, 50, 400);
        Assert.True(fourth > 3 * second, $"fourth {fourth} vs second {second}");
        Assert.True(sixth > 3 * fourth, $"sixth {sixth} vs fourth {fourth}");
    }

    [Fact]
    public void DelayAfter_IsJittered()
    {
        var schedule = new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromHours(1), new Random(3));

        var delays = Enumerable.Range(0, 50).Select(_ => schedule.DelayAfter(2)).Distinct().Count();

        Assert.True(delays > 40, $"only {delays} distinct delays out of 50");
    }

    [Fact]
    public void DelayAfter_NeverExceedsTheCap()
    {
        var schedule = new RetrySchedule(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), new Random(5));

        Assert.All(Enumerable.Range(1, 60), n => Assert.InRange(schedule.DelayAfter(n), TimeSpan.Zero, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public void DelayAfter_NoFailureYet_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new RetrySchedule(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), new Random(1)).DelayAfter(0));
}
