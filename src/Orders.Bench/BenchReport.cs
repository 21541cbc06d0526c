namespace Orders.Bench;

public sealed record LatencyMs(double P50, double P99, double P999);

/// <summary>The garbage collections during a run, by generation (a collection of one counts in those below it too), and the runtime's pause for them per order.</summary>
public sealed record GcFigures(int Gen0, int Gen1, int Gen2, double PauseMicrosPerOrder);

/// <summary>One run of one side of one measure.</summary>
public sealed record BenchRun(
    string Measure, string Side, int Repeat, long Orders, long Counted, double Seconds, double Throughput,
    double? CpuMicrosPerOrder, double? AllocatedBytesPerOrder, LatencyMs? LatencyMs)
{
    /// <summary>The handler mode: of the orders counted, those dead-lettered after their last attempt.</summary>
    public long? DeadLettered { get; init; }

    /// <summary>
    /// Of <see cref="CpuMicrosPerOrder"/>, what each of the process's threads spent, by thread name, busiest
    /// first (Linux only, to 10 ms per thread; <c>(ended)</c>: threads that ended during the run).
    /// </summary>
    public IReadOnlyDictionary<string, double>? CpuByThread { get; init; }

    /// <summary>The garbage collections during the run (this process's: null where the side ran elsewhere).</summary>
    public GcFigures? Gc { get; init; }
}

/// <summary>A side's medians over the repeats. Role: <c>ceiling</c>, <c>pipeline</c> or <c>reference</c>.</summary>
public sealed record SideResult(
    string Side, string Role, int Runs, double Throughput, double? CpuMicrosPerOrder, double? AllocatedBytesPerOrder, LatencyMs? LatencyMs);

/// <summary>
/// The pipeline against its ceiling on one measure. <see cref="Ratio"/> is the pipeline's share of the
/// ceiling, 1 at best (throughput: the median over the repeats of pipeline / ceiling of the same repeat;
/// latency: ceiling p99 / pipeline p99 of the medians); CPU and allocation ratios are paired the same
/// way (pipeline / ceiling, so 1.3 means 30% more per order). A pipeline
/// measured beyond its ceiling by more than the noise is a bench error (the ceiling is not one), and
/// then <see cref="Ratio"/> is null and <see cref="MeasuredRatio"/> says what was measured.
/// </summary>
public sealed record Comparison(
    string Ceiling, string Pipeline, double? Ratio, double MeasuredRatio, double? CpuRatio, double? AllocatedRatio,
    bool BenchError, string? BenchErrorMessage, IReadOnlyDictionary<string, double> PipelineToReferences);

public sealed record MeasureReport(string Measure, string Description, long Orders, IReadOnlyList<SideResult> Sides, Comparison Comparison)
{
    /// <summary>Latency only: pipeline p99 minus ceiling p99.</summary>
    public double? P99DifferenceMs { get; init; }
}

/// <summary>
/// The headline figures. <see cref="Throughput"/> is the pipeline's, produce then drain: the time per
/// order of the raw producer plus the raw consumer over the publisher's plus the processor's.
/// </summary>
public sealed record Ratios(
    double? Throughput, double? Drain, double? Produce, double? DrainCpu, double? ProduceCpu, double? LatencyP99,
    double? LatencyP99DifferenceMs, double? DrainToKcat, double? ProduceToKcat)
{
    /// <summary>The processor with tracing on over the processor without (paired per repeat); null when not measured.</summary>
    public double? DrainTraced { get; init; }

    /// <summary>The publisher with tracing on over the publisher without (paired per repeat); null when not measured.</summary>
    public double? ProduceTraced { get; init; }

    /// <summary>
    /// With tracing: the raw producer loop with one traceparent header per message over the raw loop
    /// without (paired per repeat), the share of the producer's speed the client keeps carrying the
    /// header that tracing puts on every record; null when not measured.
    /// </summary>
    public double? ProduceRawTraceparent { get; init; }

    /// <summary>
    /// The work's floor: the raw consumer that also decodes, validates and aggregates each record on its
    /// own thread, over the raw consumer, in CPU per order (paired per repeat). No processor built on the
    /// same decoder and aggregate can show a <see cref="DrainCpu"/> below it; null when not measured.
    /// </summary>
    public double? DrainCpuFloor { get; init; }

    /// <summary>The processor over the work's floor, in CPU per order (paired per repeat): what its machinery costs beyond the work; null when not measured.</summary>
    public double? DrainCpuOverFloor { get; init; }
}

public sealed record BenchReport(
    Ratios Ratios, bool BenchError, IReadOnlyList<string> BenchErrors, MeasureReport Drain, MeasureReport Produce, MeasureReport Latency,
    int ValueBytes, int Partitions, int Repeats, IReadOnlyList<BenchRun> Runs);

/// <summary>
/// The handler mode's figures. The ceiling is the theory, in-flight / mean latency; each side's
/// <c>ToTheory</c> is its median throughput over it; <c>FailingToClean</c> is the median over the
/// repeats of the failing side over the clean one of the same repeat and kind.
/// </summary>
public sealed record HandlerRatios(double? KeyedToTheory, double? KeylessToTheory, double? KeyedFailingToClean, double? KeylessFailingToClean);

public sealed record HandlerReport(
    string Latency, double FailRatio, int MaxInFlight, string Ordering, long Orders, double Theory, IReadOnlyList<SideResult> Sides,
    HandlerRatios Ratios, long DeadLettered, bool BenchError, IReadOnlyList<string> BenchErrors, int Partitions, int Repeats, IReadOnlyList<BenchRun> Runs);

/// <summary>Medians, ceilings and ratios from the runs: pure arithmetic, so that it can be checked without a cluster.</summary>
public static class BenchMath
{
    /// <summary>The median of the repeats (the mean of the middle two for an even count).</summary>
    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    public static SideResult Median(IReadOnlyList<BenchRun> runs, string side, string role)
    {
        var mine = runs.Where(r => r.Side == side).ToList();
        double? Mid(Func<BenchRun, double?> pick) =>
            mine.All(r => pick(r) is not null) && mine.Count > 0 ? Math.Round(MedianOf(mine.Select(r => pick(r)!.Value)), 3) : null;
        var latency = mine.All(r => r.LatencyMs is not null) && mine.Count > 0
            ? new LatencyMs(Mid(r => r.LatencyMs!.P50)!.Value, Mid(r => r.LatencyMs!.P99)!.Value, Mid(r => r.LatencyMs!.P999)!.Value)
            : null;
        return new SideResult(side, role, mine.Count, Math.Round(MedianOf(mine.Select(r => r.Throughput))), Mid(r => r.CpuMicrosPerOrder), Mid(r => r.AllocatedBytesPerOrder), latency);
    }

    /// <param name="measured">The pipeline's share of the ceiling as measured (above 1: it beat the ceiling).</param>
    /// <param name="cpuRatio">Pipeline CPU per order over the ceiling's.</param>
    /// <param name="allocatedRatio">Pipeline allocations per order over the ceiling's.</param>
    public static Comparison Compare(
        string measure, SideResult ceiling, SideResult pipeline, double measured, double? cpuRatio, double? allocatedRatio, double noise, IEnumerable<SideResult> references)
    {
        var error = measured > 1 + noise;
        return new Comparison(
            ceiling.Side,
            pipeline.Side,
            error ? null : Math.Round(measured, 3),
            Math.Round(measured, 3),
            Round(cpuRatio),
            Round(allocatedRatio),
            error,
            error
                ? $"bench error: the {measure} pipeline ({pipeline.Side}) measured {measured:F2}x its ceiling ({ceiling.Side}), beyond the {noise:P0} noise: " +
                  "that ceiling is not one (a ceiling run disturbed, or not the best the client does), so no ratio is reported"
                : null,
            references.ToDictionary(r => r.Side, r => Math.Round(pipeline.Throughput / r.Throughput, 3)));
    }

    /// <summary>
    /// Throughput, CPU and allocations: the median over the repeats of each repeat's pipeline run over
    /// its ceiling run. The two ran next to each other, so a slow spell of the machine (the other
    /// core's load, the local broker's moods) weighs on both; a ratio of medians would mix runs of
    /// different spells.
    /// </summary>
    public static Comparison CompareThroughput(string measure, IReadOnlyList<BenchRun> runs, SideResult ceiling, SideResult pipeline, double noise, IEnumerable<SideResult> references)
    {
        var pairs = Pairs(runs, ceiling.Side, pipeline.Side);
        return Compare(
            measure,
            ceiling,
            pipeline,
            MedianOf(pairs.Select(p => p.Pipeline.Throughput / p.Ceiling.Throughput)),
            PairedMedian(pairs, r => r.CpuMicrosPerOrder),
            PairedMedian(pairs, r => r.AllocatedBytesPerOrder),
            noise,
            references);
    }

    /// <summary>The median over the repeats of <paramref name="side"/>'s throughput over <paramref name="baseline"/>'s in the same repeat; null when either did not run.</summary>
    public static double? PairedThroughput(IReadOnlyList<BenchRun> runs, string baseline, string side)
    {
        var pairs = Pairs(runs, baseline, side);
        return pairs.Count > 0 ? Math.Round(MedianOf(pairs.Select(p => p.Pipeline.Throughput / p.Ceiling.Throughput)), 3) : null;
    }

    /// <summary>The median over the repeats of <paramref name="side"/>'s CPU per order over <paramref name="baseline"/>'s in the same repeat; null when either did not run or was not measured.</summary>
    public static double? PairedCpu(IReadOnlyList<BenchRun> runs, string baseline, string side) =>
        Round(PairedMedian(Pairs(runs, baseline, side), r => r.CpuMicrosPerOrder));

    /// <summary>Latency: the pipeline's share is ceiling p99 / pipeline p99, of the medians.</summary>
    public static Comparison CompareLatency(IReadOnlyList<BenchRun> runs, SideResult ceiling, SideResult pipeline, double noise)
    {
        var pairs = Pairs(runs, ceiling.Side, pipeline.Side);
        return Compare(
            "latency",
            ceiling,
            pipeline,
            ceiling.LatencyMs!.P99 / Math.Max(pipeline.LatencyMs!.P99, 0.001),
            PairedMedian(pairs, r => r.CpuMicrosPerOrder),
            PairedMedian(pairs, r => r.AllocatedBytesPerOrder),
            noise,
            []);
    }

    /// <summary>Produce then drain: time per order of the ceilings over the pipeline's.</summary>
    public static double ProduceThenDrain(SideResult produceCeiling, SideResult drainCeiling, SideResult publisher, SideResult processor) =>
        ((1 / produceCeiling.Throughput) + (1 / drainCeiling.Throughput)) / ((1 / publisher.Throughput) + (1 / processor.Throughput));

    private static List<(BenchRun Ceiling, BenchRun Pipeline)> Pairs(IReadOnlyList<BenchRun> runs, string ceiling, string pipeline) =>
        [.. runs.Where(r => r.Side == ceiling).Join(runs.Where(r => r.Side == pipeline), c => c.Repeat, p => p.Repeat, (c, p) => (c, p))];

    private static double? PairedMedian(List<(BenchRun Ceiling, BenchRun Pipeline)> pairs, Func<BenchRun, double?> pick) =>
        pairs.Count > 0 && pairs.All(p => pick(p.Ceiling) > 0 && pick(p.Pipeline) is not null)
            ? MedianOf(pairs.Select(p => pick(p.Pipeline)!.Value / pick(p.Ceiling)!.Value))
            : null;

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 3) : null;
}
