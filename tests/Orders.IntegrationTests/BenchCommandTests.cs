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
            // 2,000/s for the 1 s unmeasured start and the 1 s measured.
            Assert.Equal(4000, run.GetProperty("latencyOrders").GetInt64());
            Assert.Equal(4000, run.GetProperty("latencyCounted").GetInt64());
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

    [Fact]
    public async Task RelayOverhead_RunsTheCeilingThroughBothRelaysAlternately()
    {
        var report = (await OrdersCommand.RunJsonAsync(["bench", "--relay-overhead", "--count", "3000", "--repeats", "2", "--partitions", "3", "--warm-up", "500"]))
            .GetProperty("relayOverhead");

        var runs = report.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(["inspecting", "plain", "inspecting", "plain"], runs.Select(r => r.GetProperty("relay").GetString()));
        Assert.All(runs, run => Assert.True(run.GetProperty("throughput").GetDouble() > 0));
        Assert.Equal(3000, report.GetProperty("orders").GetInt64());
        Assert.Equal(
            Math.Round(report.GetProperty("inspecting").GetDouble() / report.GetProperty("plain").GetDouble(), 3),
            report.GetProperty("ratio").GetDouble());
    }

    [Fact]
    public async Task RelayOverhead_WithAnotherCluster_IsAUsageError()
    {
        var stderr = new StringWriter();
        var exit = await Orders.Cli.OrdersCli.RunAsync(["bench", "--relay-overhead", "--bootstrap-servers", "localhost:1", "--schema-registry", "http://localhost:1"], new StringWriter(), stderr);

        Assert.Equal(Orders.Cli.OrdersCli.ExitUsage, exit);
        Assert.Contains("--relay-overhead measures the local stack's relays", stderr.ToString(), StringComparison.Ordinal);
    }
}
