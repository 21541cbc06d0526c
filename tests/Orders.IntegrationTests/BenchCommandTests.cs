using System.Text.Json;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>One small <c>orders bench --json</c> on its own local stack, shared by the tests that read its report.</summary>
public sealed class SmallBenchRun : IAsyncLifetime
{
    public const int Orders = 3000;

    public JsonElement Report { get; private set; }

    public async ValueTask InitializeAsync() =>
        Report = await OrdersCommand.RunJsonAsync(
            ["bench", "--count", $"{Orders}", "--produce-count", $"{Orders}", "--repeats", "2", "--partitions", "3", "--rate", "2000", "--latency-seconds", "1", "--warm-up", "500"]);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary><c>orders bench</c> runs and counts correctly on a small count (its timings are never asserted).</summary>
public sealed class BenchCommandTests(SmallBenchRun bench) : IClassFixture<SmallBenchRun>
{
    private static readonly string[] Measures = ["drain", "produce", "latency"];

    [Fact]
    public void Bench_EveryMeasure_RunsEachSideOncePerRepeat_TheFirstSideRotating()
    {
        var runs = bench.Report.GetProperty("runs").EnumerateArray().ToList();
        foreach (var measure in Measures)
        {
            var mine = runs.Where(r => r.GetProperty("measure").GetString() == measure).ToList();
            var first = Sides(mine, repeat: 1);
            var second = Sides(mine, repeat: 2);
            Assert.Contains("raw", first);
            Assert.Equal(first.Order(), second.Order());
            Assert.Equal([.. first.Skip(1), first[0]], second);
        }
    }

    [Fact]
    public void Bench_EveryRun_CountsEveryOrder()
    {
        var runs = bench.Report.GetProperty("runs").EnumerateArray().ToList();
        Assert.All(runs, run => Assert.Equal(run.GetProperty("orders").GetInt64(), run.GetProperty("counted").GetInt64()));
        Assert.All(runs.Where(r => r.GetProperty("measure").GetString() != "latency"), run => Assert.Equal(SmallBenchRun.Orders, run.GetProperty("orders").GetInt64()));

        // 2,000/s for the 1 s unmeasured start and the 1 s measured.
        Assert.All(runs.Where(r => r.GetProperty("measure").GetString() == "latency"), run => Assert.Equal(4000, run.GetProperty("orders").GetInt64()));
    }

    [Theory]
    [InlineData("drain", "processor")]
    [InlineData("produce", "publisher")]
    [InlineData("latency", "pipeline")]
    public void Bench_EachMeasure_NamesTheRawClientAsItsCeiling_AndGivesBothSidesFigures(string measure, string pipeline)
    {
        var report = bench.Report.GetProperty(measure);
        var sides = report.GetProperty("sides").EnumerateArray().ToDictionary(s => s.GetProperty("side").GetString()!);
        Assert.Equal("ceiling", sides["raw"].GetProperty("role").GetString());
        Assert.Equal("pipeline", sides[pipeline].GetProperty("role").GetString());
        Assert.Equal("raw", report.GetProperty("comparison").GetProperty("ceiling").GetString());
        Assert.Equal(pipeline, report.GetProperty("comparison").GetProperty("pipeline").GetString());
        foreach (var side in new[] { sides["raw"], sides[pipeline] })
        {
            Assert.True(side.GetProperty("throughput").GetDouble() > 0);
            Assert.True(side.GetProperty("cpuMicrosPerOrder").GetDouble() > 0);
            Assert.True(side.GetProperty("allocatedBytesPerOrder").GetDouble() > 0);
        }
    }

    [Theory]
    [InlineData("drain")]
    [InlineData("produce")]
    public void Bench_ThroughputRatio_IsThePipelinesShareOfItsCeiling_OrABenchErrorAboveTheNoise(string measure)
    {
        var comparison = bench.Report.GetProperty(measure).GetProperty("comparison");
        var runs = bench.Report.GetProperty("runs").EnumerateArray().Where(r => r.GetProperty("measure").GetString() == measure).ToList();
        double Throughput(string side, int repeat) =>
            runs.Single(r => r.GetProperty("side").GetString() == side && r.GetProperty("repeat").GetInt32() == repeat).GetProperty("throughput").GetDouble();

        // Two repeats: the median of the two repeats' pipeline / ceiling is their mean.
        var pipeline = comparison.GetProperty("pipeline").GetString()!;
        var measured = Math.Round(((Throughput(pipeline, 1) / Throughput("raw", 1)) + (Throughput(pipeline, 2) / Throughput("raw", 2))) / 2, 3);

        Assert.Equal(measured, comparison.GetProperty("measuredRatio").GetDouble());
        if (measured > 1.10)
        {
            Assert.True(comparison.GetProperty("benchError").GetBoolean());
            Assert.Equal(JsonValueKind.Null, comparison.GetProperty("ratio").ValueKind);
            Assert.Contains("bench error", comparison.GetProperty("benchErrorMessage").GetString(), StringComparison.Ordinal);
            Assert.True(bench.Report.GetProperty("benchError").GetBoolean());
        }
        else
        {
            Assert.False(comparison.GetProperty("benchError").GetBoolean());
            Assert.Equal(measured, comparison.GetProperty("ratio").GetDouble());
        }
    }

    [Fact]
    public void Bench_Latency_ReportsBothSidesPercentiles_AndTheP99Difference()
    {
        var report = bench.Report.GetProperty("latency");
        var sides = report.GetProperty("sides").EnumerateArray().ToDictionary(s => s.GetProperty("role").GetString()!);
        foreach (var side in sides.Values)
        {
            var latency = side.GetProperty("latencyMs");
            Assert.True(latency.GetProperty("p99").GetDouble() >= latency.GetProperty("p50").GetDouble());
        }

        var difference = sides["pipeline"].GetProperty("latencyMs").GetProperty("p99").GetDouble() - sides["ceiling"].GetProperty("latencyMs").GetProperty("p99").GetDouble();
        Assert.Equal(Math.Round(difference, 3), report.GetProperty("p99DifferenceMs").GetDouble(), 3);
    }

    [Fact]
    public void Drain_TheWorksFloor_DecodesAndAggregatesEveryOrder_AndTheReportPairsItsCpuWithTheRawConsumersAndTheProcessors()
    {
        var runs = bench.Report.GetProperty("runs").EnumerateArray().Where(r => r.GetProperty("measure").GetString() == "drain").ToList();
        double Cpu(string side, int repeat) =>
            runs.Single(r => r.GetProperty("side").GetString() == side && r.GetProperty("repeat").GetInt32() == repeat).GetProperty("cpuMicrosPerOrder").GetDouble();
        double Paired(string baseline, string side) => Math.Round(new[] { 1, 2 }.Select(r => Cpu(side, r) / Cpu(baseline, r)).Average(), 3);

        // The side throws unless every record decoded as a valid order and entered an aggregate: its runs counted them all.
        var floor = runs.Where(r => r.GetProperty("side").GetString() == "raw-decode-aggregate").ToList();
        Assert.Equal(2, floor.Count);
        Assert.All(floor, run => Assert.Equal(SmallBenchRun.Orders, run.GetProperty("counted").GetInt64()));
        var sides = bench.Report.GetProperty("drain").GetProperty("sides").EnumerateArray().ToDictionary(s => s.GetProperty("side").GetString()!);
        Assert.Equal("reference", sides["raw-decode-aggregate"].GetProperty("role").GetString());

        var ratios = bench.Report.GetProperty("ratios");
        Assert.Equal(Paired("raw", "raw-decode-aggregate"), ratios.GetProperty("drainCpuFloor").GetDouble(), precision: 3);
        Assert.Equal(Paired("raw-decode-aggregate", "processor"), ratios.GetProperty("drainCpuOverFloor").GetDouble(), precision: 3);
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

    [Fact]
    public async Task Traced_WithoutAnEndpoint_IsAUsageError()
    {
        var stderr = new StringWriter();
        var exit = await Orders.Cli.OrdersCli.RunAsync(["bench", "--traced", "--count", "10"], new StringWriter(), stderr);

        Assert.Equal(Orders.Cli.OrdersCli.ExitUsage, exit);
        Assert.Equal("orders: --traced needs an OTLP endpoint to export to (OTEL_EXPORTER_OTLP_ENDPOINT), and tracing not disabled", stderr.ToString().Trim());
    }

    [Fact]
    public async Task Traced_AddsTracedSides_AndTheRawLoopWithATraceparent_OnlyTheyExport_AndTheReportPairsThemWithTheUntraced()
    {
        using var receiver = OtlpReceiver.Start();
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["bench", "--traced", "--count", "2000", "--produce-count", "2000", "--repeats", "2", "--partitions", "3", "--rate", "1000", "--latency-seconds", "1", "--warm-up", "500", "--no-kcat", "--json"],
            TimeSpan.FromMinutes(5),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint),
            ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.5"));
        Assert.True(exit == 0, stderr);
        var report = JsonDocument.Parse(stdout).RootElement;

        var runs = report.GetProperty("runs").EnumerateArray().ToList();
        double Paired(string measure, string baseline, string side)
        {
            var mine = runs.Where(r => r.GetProperty("measure").GetString() == measure).ToList();
            double Rate(string s, int repeat) => mine.Single(r => r.GetProperty("side").GetString() == s && r.GetProperty("repeat").GetInt32() == repeat).GetProperty("throughput").GetDouble();
            return Math.Round(new[] { 1, 2 }.Select(r => Rate(side, r) / Rate(baseline, r)).Average(), 3);
        }

        Assert.Equal(Paired("drain", "processor", "processor-traced"), report.GetProperty("ratios").GetProperty("drainTraced").GetDouble(), precision: 3);
        Assert.Equal(Paired("produce", "publisher", "publisher-traced"), report.GetProperty("ratios").GetProperty("produceTraced").GetDouble(), precision: 3);
        Assert.Equal(Paired("produce", "raw", "raw-traceparent"), report.GetProperty("ratios").GetProperty("produceRawTraceparent").GetDouble(), precision: 3);
        var sends = receiver.Spans.Where(s => s.Service == "orders-producer").Select(s => s.Name).Distinct().ToList();
        Assert.NotEmpty(sends);
        Assert.All(sends, name => Assert.Contains("produce-publisher-traced", name, StringComparison.Ordinal));
        Assert.Contains(receiver.Spans, s => s.Service == "orders-processor" && s.Name.StartsWith("process ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HandlerMode_DrainsKeyedAndKeylessBacklogs_WithAndWithoutFailures_CountingEveryOrder_AgainstTheTheory()
    {
        const int orders = 2000;
        var report = (await OrdersCommand.RunJsonAsync(
            ["bench", "--handler-latency", "10ms", "--fail-ratio", "0.2", "--count", $"{orders}", "--repeats", "2", "--partitions", "3", "--warm-up", "500"]))
            .GetProperty("handler");

        // 256 in flight over 10 ms.
        Assert.Equal(25_600, report.GetProperty("theory").GetDouble());
        var runs = report.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(8, runs.Count);
        Assert.All(runs, run => Assert.Equal(orders, run.GetProperty("counted").GetInt64()));
        foreach (var side in new[] { "keyed", "keyless" })
        {
            Assert.All(runs.Where(r => r.GetProperty("side").GetString() == side), run => Assert.Equal(0, run.GetProperty("deadLettered").GetInt64()));
        }

        // A fifth of the calls fail, three attempts: about 8 per 1,000 orders exhaust them.
        var failing = runs.Where(r => r.GetProperty("side").GetString()!.EndsWith("-failing", StringComparison.Ordinal)).ToList();
        Assert.Equal(4, failing.Count);
        Assert.True(failing.Sum(r => r.GetProperty("deadLettered").GetInt64()) > 0);
        Assert.Equal(runs.Sum(r => r.GetProperty("deadLettered").GetInt64()), report.GetProperty("deadLettered").GetInt64());

        double Paired(string baseline, string side)
        {
            double Rate(string s, int repeat) => runs.Single(r => r.GetProperty("side").GetString() == s && r.GetProperty("repeat").GetInt32() == repeat).GetProperty("throughput").GetDouble();
            return Math.Round(new[] { 1, 2 }.Select(r => Rate(side, r) / Rate(baseline, r)).Average(), 3);
        }

        var ratios = report.GetProperty("ratios");
        Assert.Equal(Paired("keyed", "keyed-failing"), ratios.GetProperty("keyedFailingToClean").GetDouble(), precision: 3);
        Assert.Equal(Paired("keyless", "keyless-failing"), ratios.GetProperty("keylessFailingToClean").GetDouble(), precision: 3);
        var keyed = report.GetProperty("sides").EnumerateArray().Single(s => s.GetProperty("side").GetString() == "keyed").GetProperty("throughput").GetDouble();
        Assert.Equal(Math.Round(keyed / 25_600, 3), ratios.GetProperty("keyedToTheory").GetDouble(), precision: 3);
    }

    [Theory]
    [InlineData("--fail-ratio 0.05", "orders: --fail-ratio belongs to the handler mode: give --handler-latency too")]
    [InlineData("--handler-latency 0", "orders: the handler mode measures against in flight / latency: give --handler-latency above 0")]
    [InlineData("--handler-latency 10ms --traced", "orders: --traced measures the drain and produce sides; the handler mode takes no --traced")]
    [InlineData("--handler-latency 10ms --relay-overhead", "orders: --relay-overhead measures the relays alone; it takes no --handler-latency or --traced")]
    public async Task HandlerMode_WithFlagsOfAnotherMode_IsAUsageError(string flags, string error)
    {
        var stderr = new StringWriter();
        var exit = await Orders.Cli.OrdersCli.RunAsync(["bench", .. flags.Split(' ')], new StringWriter(), stderr);

        Assert.Equal(Orders.Cli.OrdersCli.ExitUsage, exit);
        Assert.Equal(error, stderr.ToString().Trim());
    }

    private static List<string> Sides(List<JsonElement> runs, int repeat) =>
        [.. runs.Where(r => r.GetProperty("repeat").GetInt32() == repeat).Select(r => r.GetProperty("side").GetString()!)];
}
