namespace Orders.Producer.UnitTests;

public sealed class ProductionScheduleTests
{
    [Fact]
    public void AtARate_OrderNIsDueAtNOverRate()
    {
        var schedule = new ProductionSchedule(rate: 4, count: null, duration: null);

        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(0, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromMilliseconds(250), schedule.WaitBeforeNext(1, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromMilliseconds(150), schedule.WaitBeforeNext(2, TimeSpan.FromMilliseconds(350)));
    }

    [Fact]
    public void AtARate_BehindSchedule_CatchesUpWithoutWaiting() =>
        Assert.Equal(TimeSpan.Zero, new ProductionSchedule(10, null, null).WaitBeforeNext(5, TimeSpan.FromSeconds(3)));

    [Fact]
    public void AtARate_WithDuration_SendsExactlyRateTimesDuration()
    {
        var schedule = new ProductionSchedule(rate: 40, count: null, duration: TimeSpan.FromSeconds(2));
        var sent = 0L;
        var elapsed = TimeSpan.Zero;

        // Simulate a clock that advances exactly by each wait (and a little past it).
        while (schedule.WaitBeforeNext(sent, elapsed) is { } wait)
        {
            elapsed += wait + TimeSpan.FromTicks(1);
            sent++;
        }

        Assert.Equal(80, sent);
    }

    [Theory]
    [InlineData(1e-300)]
    [InlineData(1e-7)]
    [InlineData(1.0 / (3 * 86_400))]
    public void AtARateSlowerThanOneOrderADay_TheWaitComesInSteps_OfAtMostADay(double rate)
    {
        var schedule = new ProductionSchedule(rate, count: null, duration: null);

        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(0, TimeSpan.Zero));
        Assert.Equal(ProductionSchedule.LongestWait, schedule.WaitBeforeNext(1, TimeSpan.Zero));
        Assert.Equal(ProductionSchedule.LongestWait, schedule.WaitBeforeNext(long.MaxValue, TimeSpan.MaxValue - TimeSpan.FromDays(2)));
    }

    [Fact]
    public void OneOrderEveryThreeDays_AskedAgainAfterEachWait_SendsTheSecondAtThreeDays()
    {
        var schedule = new ProductionSchedule(rate: 1.0 / (3 * 86_400), count: 2, duration: null);
        var (sent, waits, elapsed) = (0L, 0, TimeSpan.Zero);
        var sentAt = new List<TimeSpan>();

        // As the publisher does: a wait, then the schedule asked again; an order when nothing is left to wait.
        while (schedule.WaitBeforeNext(sent, elapsed) is { } wait)
        {
            if (wait > TimeSpan.Zero)
            {
                elapsed += wait;
                waits++;
                continue;
            }

            sentAt.Add(elapsed);
            sent++;
        }

        Assert.Equal([TimeSpan.Zero, TimeSpan.FromDays(3)], sentAt);
        Assert.Equal(3, waits);
    }

    [Fact]
    public void AtASlowRate_WithADuration_TheOrderDueWithinItComesAfterItsSteps_AndTheRunEndsAtTheDuration()
    {
        var schedule = new ProductionSchedule(rate: 1.0 / (3 * 86_400), count: null, duration: TimeSpan.FromDays(4));

        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(0, TimeSpan.Zero));
        Assert.Equal(ProductionSchedule.LongestWait, schedule.WaitBeforeNext(1, TimeSpan.Zero));
        Assert.Equal(ProductionSchedule.LongestWait, schedule.WaitBeforeNext(1, TimeSpan.FromDays(1)));
        Assert.Equal(TimeSpan.FromDays(1), schedule.WaitBeforeNext(1, TimeSpan.FromDays(2)));
        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(1, TimeSpan.FromDays(3)));
        Assert.Null(schedule.WaitBeforeNext(2, TimeSpan.FromDays(3)));
    }

    [Fact]
    public void AtARate_WithDuration_TheClientSlowerThanTheRate_StopsAtTheDuration()
    {
        // 1,000,000/s for 1 s, while the client takes 500,000/s: the duration ends the run, not the
        // millionth order (measured: the millionth came after 2.1 s).
        var schedule = new ProductionSchedule(rate: 1_000_000, count: null, duration: TimeSpan.FromSeconds(1));
        var sent = 0L;
        var elapsed = TimeSpan.Zero;
        while (schedule.WaitBeforeNext(sent, elapsed) is { } wait)
        {
            elapsed += wait + TimeSpan.FromTicks(20);
            sent++;
        }

        Assert.InRange(sent, 499_000, 501_000);
        Assert.InRange(elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.001));
    }

    [Theory]
    [InlineData(null, 3L, null, false)]
    [InlineData(null, null, null, false)]
    [InlineData(40.0, null, null, true)]
    [InlineData(null, 3L, 2.0, true)]
    public void UsesElapsed_OnlyWithARateOrADuration_AndWithoutOneTheElapsedTimeChangesNothing(double? rate, long? count, double? seconds, bool uses)
    {
        var schedule = new ProductionSchedule(rate, count, seconds is { } s ? TimeSpan.FromSeconds(s) : null);

        Assert.Equal(uses, schedule.UsesElapsed);
        if (!uses)
        {
            // The publisher passes zero instead of reading the clock: any elapsed time must give the same answer.
            foreach (var sent in new long[] { 0, 2, 3, 10 })
            {
                Assert.Equal(schedule.WaitBeforeNext(sent, TimeSpan.Zero), schedule.WaitBeforeNext(sent, TimeSpan.FromDays(1)));
            }
        }
    }

    [Fact]
    public void Count_StopsAtTheLimit()
    {
        var schedule = new ProductionSchedule(rate: null, count: 3, duration: null);

        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(2, TimeSpan.FromHours(1)));
        Assert.Null(schedule.WaitBeforeNext(3, TimeSpan.Zero));
    }

    [Fact]
    public void Unpaced_WithDuration_StopsWhenTimeIsUp()
    {
        var schedule = new ProductionSchedule(rate: null, count: null, duration: TimeSpan.FromSeconds(1));

        Assert.Equal(TimeSpan.Zero, schedule.WaitBeforeNext(1000, TimeSpan.FromMilliseconds(999)));
        Assert.Null(schedule.WaitBeforeNext(1001, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public void NoLimits_NeverStops() =>
        Assert.Equal(TimeSpan.Zero, new ProductionSchedule(null, null, null).WaitBeforeNext(long.MaxValue - 1, TimeSpan.FromDays(365)));
}
