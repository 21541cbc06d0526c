using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary><c>orders bench</c> runs and counts correctly on a small count (its timings are never asserted).</summary>
public sealed class BenchCommandTests
{
    [Fact]
    public async Task Bench_OnItsOwnLocalStack_RunsBothSidesAlternately_AndEveryRunPassesItsCountCheck()
    {
        var report = await OrdersCommand.RunJsonAsync(
            ["bench", "--count", "3000", "--repeats", "2", "--partitions", "3", "--rate", "2000", "--latency-seconds", "1", "--warm-up", "500"]);

        var runs = report.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["ceiling", "pipeline", "ceiling", "pipeline"], runs.Select(r => r.GetProperty("side").GetString()));
        Assert.All(runs, run =>
        {
            Assert.Equal(3000, run.GetProperty("orders").GetInt64());
            Assert.Equal(3000, run.GetProperty("counted").GetInt64());
            Assert.Equal(2000, run.GetProperty("latencyOrders").GetInt64());
            Assert.Equal(2000, run.GetProperty("latencyCounted").GetInt64());
        });
        foreach (var side in new[] { "ceiling", "pipeline" })
        {
            var measured = report.GetProperty(side);
            Assert.True(measured.GetProperty("throughput").GetDouble() > 0);
            Assert.True(measured.GetProperty("cpuMicrosPerOrder").GetDouble() > 0);
            Assert.True(measured.GetProperty("allocatedBytesPerOrder").GetDouble() > 0);
            Assert.True(measured.GetProperty("latencyMs").GetProperty("p99").GetDouble() >= measured.GetProperty("latencyMs").GetProperty("p50").GetDouble());
        }

        Assert.True(report.GetProperty("ratios").GetProperty("throughput").GetDouble() > 0);
    }
}
