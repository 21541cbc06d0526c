namespace Orders.Bench.UnitTests;

/// <summary>Where a run's CPU went, thread by thread, from <c>/proc/self/task/*/stat</c>.</summary>
public sealed class ThreadTimesTests
{
    [Fact]
    public void Parse_ReadsTheNameToTheLastParenthesis_AndAddsUserAndSystemTime()
    {
        // A name may hold spaces and parentheses; utime and stime are the 14th and 15th fields.
        const string stat = "4242 (we(ird) name) S 1 4242 4242 0 -1 4194368 515 0 0 0 17 5 0 0 20 0 9 0 1234 0 0";

        Assert.Equal(("we(ird) name", 22L), ThreadTimes.Parse(stat));
    }

    [Theory]
    [InlineData("")]
    [InlineData("4242 no parentheses S 1 2 3")]
    [InlineData("4242 (short) S 1 2")]
    [InlineData("4242 (letters) S 1 4242 4242 0 -1 4194368 515 0 0 0 x y 0")]
    public void Parse_GivesNothingForALineThatIsNotAStatLine(string stat) => Assert.Null(ThreadTimes.Parse(stat));

    [Fact]
    public void To_GivesEachNamesTicksPerOrder_NewThreadsWhole_AndTheProcessRemainderAsEnded()
    {
        var before = ThreadTimes.Of(new Dictionary<int, string> { [1] = Stat("loop", 100), [2] = Stat("rdk:broker1", 50), [3] = Stat("pool", 10), [9] = Stat("gone", 7) });
        var after = ThreadTimes.Of(new Dictionary<int, string> { [1] = Stat("loop", 160), [2] = Stat("rdk:broker1", 70), [3] = Stat("pool", 10), [4] = Stat("pool", 20) });

        // 60 + 20 + 20 ticks of threads; the process spent 1.1 s = 110 ticks: 10 went to a thread that ended.
        var byThread = after.To(after, TimeSpan.Zero, 1);
        var perOrder = before.To(after, TimeSpan.FromSeconds(1.1), orders: 1000);

        Assert.Empty(byThread);
        Assert.Equal(["loop", "pool", "rdk:broker1", "(ended)"], perOrder.Keys);
        Assert.Equal([600.0, 200.0, 200.0, 100.0], perOrder.Values);
    }

    [Fact]
    public void Read_SeesTheCallingThread_ByItsName()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Empty(ThreadTimes.Read().To(ThreadTimes.Read(), TimeSpan.Zero, 1));
            return;
        }

        List<string> seen = [];
        var thread = new Thread(() =>
        {
            // Busy until the kernel has charged it a tick (10 ms of CPU; 10 s at most on a crowded machine).
            var start = ThreadTimes.Read();
            var until = DateTime.UtcNow.AddSeconds(10);
            while (!seen.Contains("bench-spin") && DateTime.UtcNow < until)
            {
                seen = [.. start.To(ThreadTimes.Read(), TimeSpan.Zero, 1).Keys];
            }
        })
        {
            Name = "bench-spin",
        };
        thread.Start();
        thread.Join();

        Assert.Contains("bench-spin", seen);
    }

    private static string Stat(string name, long ticks) => $"1 ({name}) S 1 1 1 0 -1 0 0 0 0 0 {ticks - 1} 1 0 0 20 0 1 0 0";
}
