using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class RecentRateTests
{
    [Fact]
    public void Sample_First_IsUnknown_NotZero() =>
        Assert.Null(new RecentRate(new FakeTimeProvider(), TimeSpan.FromSeconds(5)).Sample(100));

    [Fact]
    public void Sample_SteadyProgress_IsItsRate()
    {
        var time = new FakeTimeProvider();
        var rate = new RecentRate(time, TimeSpan.FromSeconds(5));
        rate.Sample(0);

        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(50, rate.Sample(100));
    }

    [Fact]
    public void Sample_AfterAStall_ForgetsWhatCameBeforeTheWindow()
    {
        var time = new FakeTimeProvider();
        var rate = new RecentRate(time, TimeSpan.FromSeconds(5));
        rate.Sample(0);
        time.Advance(TimeSpan.FromSeconds(1));
        rate.Sample(1000);

        // Nothing more for 10 s: the average since start would still say 91/s.
        for (var i = 0; i < 10; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            rate.Sample(1000);
        }

        Assert.Equal(0, rate.Sample(1000));
    }
}
