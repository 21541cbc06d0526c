using Confluent.SchemaRegistry;
using Orders.Processor.Hosting;
using Orders.Processor.Records;

namespace Orders.Bench;

/// <summary>
/// The pipeline against real ceilings, each measured on the same data in the same run, alternating
/// (the order of the sides rotates from one repeat to the next), medians of the repeats:
/// <list type="bullet">
/// <item>drain (<see cref="DrainMeasure"/>): the processor against a raw consumer at its best settings, reading the same backlog;</item>
/// <item>produce (<see cref="ProduceMeasure"/>): <c>OrderPublisher</c> against a raw producer loop of prebuilt values;</item>
/// <item>latency (<see cref="RoundTrip"/>): publisher into processor against raw producer into raw consumer, at a fixed rate;</item>
/// </list>
/// with kcat, where installed, as the C client's limit. CPU and allocations are this process's (the
/// Kafka cluster must run elsewhere, e.g. <c>orders stack</c> in another process), so they are the
/// clients' own. A pipeline measured beyond its ceiling is reported as a bench error, not as a ratio.
/// </summary>
public sealed class PipelineBench(BenchOptions options, Action<string> progress)
{
    private readonly List<BenchRun> _runs = [];
    private BenchKafka? _ceilingKafka;

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = options.SchemaRegistryUrl });
        var kafka = new BenchKafka(options);
        await kafka.PrepareValuesAsync(registry);
        var kcat = Kcat.Find(options);
        progress($"values of {kafka.ValueBytes} bytes (the wire size of a generated order), keys of {kafka.Keys[0].Length}; " +
            (kcat is null ? "kcat not found: no C client reference" : "kcat found: the C client's limit is measured too"));

        var drain = new DrainMeasure(kafka, registry, kcat);
        using var produce = new ProduceMeasure(kafka, registry, kcat);
        var roundTrip = new RoundTrip(kafka, registry);

        // Twice: after one warm-up round the first measured round's pipeline runs still came out at
        // half speed now and then (tiered compilation promotes in steps, 100 ms apart at the least).
        for (var round = 1; round <= 2; round++)
        {
            progress($"warming up every side, round {round} of 2 (not reported)");
            var warmBacklog = await drain.PrefillAsync(options.WarmUpCount, cancellationToken);
            foreach (var side in drain.Sides)
            {
                await drain.RunAsync(side, warmBacklog, options.WarmUpCount, cancellationToken);
            }

            foreach (var side in produce.Sides)
            {
                await produce.RunAsync(side, options.WarmUpCount, cancellationToken);
            }
        }

        for (var repeat = 1; repeat <= options.Repeats; repeat++)
        {
            var backlog = await drain.PrefillAsync(options.DrainCount, cancellationToken);
            foreach (var side in Rotate(drain.Sides, repeat))
            {
                Add("drain", side, repeat, options.DrainCount, await drain.RunAsync(side, backlog, options.DrainCount, cancellationToken));
            }

            foreach (var side in Rotate(produce.Sides, repeat))
            {
                Add("produce", side, repeat, options.ProduceCount, await produce.RunAsync(side, options.ProduceCount, cancellationToken));
            }

            foreach (var side in Rotate([RoundTrip.Raw, RoundTrip.Pipeline], repeat))
            {
                var run = await roundTrip.LatencyAsync(side, cancellationToken);
                Add("latency", side, repeat, run.Counted, run);
            }
        }

        return Report(kafka.ValueBytes);
    }

    /// <summary>
    /// The handler mode (<see cref="HandlerMeasure"/>): the processor's defaults with a slow, sometimes
    /// failing downstream, against the in-flight / latency theory and against the same run without failures.
    /// </summary>
    public async Task<HandlerReport> RunHandlerAsync(HandlerBenchOptions handler, CancellationToken cancellationToken)
    {
        if (!LatencyRange.TryParse(handler.Latency, out var latency, out var error))
        {
            throw new ArgumentException(error, nameof(handler));
        }

        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = options.SchemaRegistryUrl });
        var kafka = new BenchKafka(options);
        await kafka.PrepareValuesAsync(registry);
        var measure = new HandlerMeasure(kafka, registry, handler);
        var defaults = new ProcessorOptions();
        var theory = HandlerMeasure.Theory(defaults.MaxInFlight, latency);
        progress($"handler latency {handler.Latency}, fail ratio {handler.FailRatio}, {defaults.MaxInFlight} in flight, ordering by {defaults.Ordering.ToString().ToLowerInvariant()}: " +
            $"theory {theory:N0} orders/s");

        var warmUp = Math.Min(options.WarmUpCount, handler.Count);
        progress($"warming up every side on {warmUp:N0} orders (not reported)");
        var warm = await measure.PrefillAsync(warmUp, cancellationToken);
        foreach (var side in measure.Sides)
        {
            await measure.RunAsync(side, HandlerMeasure.IsKeyed(side) ? warm.Keyed : warm.Keyless, warmUp, 0, cancellationToken);
        }

        for (var repeat = 1; repeat <= options.Repeats; repeat++)
        {
            var backlog = await measure.PrefillAsync(handler.Count, cancellationToken);
            foreach (var side in Rotate(measure.Sides, repeat))
            {
                Add("handler", side, repeat, handler.Count,
                    await measure.RunAsync(side, HandlerMeasure.IsKeyed(side) ? backlog.Keyed : backlog.Keyless, handler.Count, repeat, cancellationToken));
            }
        }

        var sides = measure.Sides.Select(s => BenchMath.Median(_runs, s, HandlerMeasure.Fails(s) ? "pipeline" : "reference")).ToList();
        double? ToTheory(string side) => sides.FirstOrDefault(s => s.Side == side) is { } found ? Math.Round(found.Throughput / theory, 3) : null;
        var ratios = new HandlerRatios(
            ToTheory(HandlerMeasure.Keyed),
            ToTheory(HandlerMeasure.Keyless),
            BenchMath.PairedThroughput(_runs, HandlerMeasure.Keyed, HandlerMeasure.KeyedFailing),
            BenchMath.PairedThroughput(_runs, HandlerMeasure.Keyless, HandlerMeasure.KeylessFailing));
        var errors = sides.Where(s => s.Throughput > theory * (1 + options.Noise))
            .Select(s => $"bench error: {s.Side} measured {s.Throughput / theory:F2}x the theory ({theory:N0} orders/s), beyond the {options.Noise:P0} noise: the handler did not take its latency")
            .ToList();
        return new HandlerReport(
            handler.Latency, handler.FailRatio, defaults.MaxInFlight, defaults.Ordering.ToString().ToLowerInvariant(), handler.Count, Math.Round(theory), sides, ratios,
            _runs.Sum(r => r.DeadLettered ?? 0), errors.Count > 0, errors, options.Partitions, options.Repeats, _runs);
    }

    /// <summary>
    /// The raw round trip alone, on a topic that already exists in the cluster of <see cref="BenchOptions.BootstrapServers"/>
    /// (the relay comparison creates its topics on the mock directly): orders per second.
    /// </summary>
    public async Task<double> CeilingThroughputAsync(string topic, long count, CancellationToken cancellationToken)
    {
        _ceilingKafka ??= NewCeilingKafka();
        var run = await new RoundTrip(_ceilingKafka, registry: null).RawThroughputAsync(topic, count, cancellationToken);
        return count / run.Seconds;
    }

    private BenchKafka NewCeilingKafka()
    {
        var kafka = new BenchKafka(options);

        // The raw side never decodes: any schema id gives values of the real wire size.
        kafka.PrepareValues(schemaId: 1);
        return kafka;
    }

    /// <summary>Repeat r starts with the side after the one repeat r - 1 started with.</summary>
    public static IEnumerable<string> Rotate(IReadOnlyList<string> sides, int repeat) =>
        Enumerable.Range(0, sides.Count).Select(i => sides[(i + repeat - 1) % sides.Count]);

    private void Add(string measure, string side, int repeat, long orders, SideRun run)
    {
        var result = new BenchRun(
            measure, side, repeat, orders, run.Counted, Math.Round(run.Seconds, 3), Math.Round(orders / run.Seconds),
            Round(run.CpuMicrosPerOrder, 3), Round(run.AllocatedBytesPerOrder, 1), run.LatencyMs)
        {
            DeadLettered = run.DeadLettered,
            CpuByThread = run.CpuByThread is { Count: > 0 } byThread ? byThread : null,
            Gc = run.Gc,
        };
        _runs.Add(result);
        var cpu = result.CpuMicrosPerOrder is { } c ? $", {c:F2} µs CPU and {result.AllocatedBytesPerOrder:N0} B allocated per order" : "";
        var latency = run.LatencyMs is { } l ? $"; p50 {l.P50:F2} ms, p99 {l.P99:F2} ms, p99.9 {l.P999:F2} ms" : "";
        var deadLettered = run.DeadLettered is > 0 ? $", {run.DeadLettered} dead-lettered (retries exhausted)" : "";
        var threads = result.CpuByThread is { } t ? $" [by thread: {string.Join(", ", t.Take(4).Select(p => $"{p.Key} {p.Value:F2}"))}]" : "";
        var gc = result.Gc is { } g ? $" [GC {g.Gen0}/{g.Gen1}/{g.Gen2}, paused {g.PauseMicrosPerOrder:F3} µs per order]" : "";
        progress($"{measure} {side} #{repeat}: {result.Throughput:N0} orders/s{cpu}{latency}{deadLettered}{threads}{gc}");
    }

    private BenchReport Report(int valueBytes)
    {
        var drain = Measure("drain", "catch-up: a pre-filled backlog read to its end, from the first record to the last",
            options.DrainCount, DrainMeasure.Raw, DrainMeasure.Processor, [DrainMeasure.KcatSide, DrainMeasure.RawStorePerRecord, DrainMeasure.RawDecodeAggregate, DrainMeasure.ProcessorTraced]);
        var produce = Measure("produce", "publishing, from building the client to the last delivery",
            options.ProduceCount, ProduceMeasure.Raw, ProduceMeasure.Publisher, [ProduceMeasure.KcatSide, ProduceMeasure.PublisherTraced, ProduceMeasure.RawTraceparent]);
        var latency = Latency();
        var errors = new[] { drain, produce, latency }.Select(m => m.Comparison.BenchErrorMessage).OfType<string>().ToList();

        var pipeline = BenchMath.ProduceThenDrain(Side(produce, ProduceMeasure.Raw), Side(drain, DrainMeasure.Raw), Side(produce, ProduceMeasure.Publisher), Side(drain, DrainMeasure.Processor));
        var pipelineError = pipeline > 1 + options.Noise;
        if (pipelineError)
        {
            errors.Add($"bench error: the pipeline, produce then drain, measured {pipeline:F2}x its ceilings, beyond the {options.Noise:P0} noise");
        }

        var drainRuns = _runs.Where(r => r.Measure == "drain").ToList();
        var ratios = new Ratios(
            pipelineError || drain.Comparison.BenchError || produce.Comparison.BenchError ? null : Math.Round(pipeline, 3),
            drain.Comparison.Ratio,
            produce.Comparison.Ratio,
            drain.Comparison.CpuRatio,
            produce.Comparison.CpuRatio,
            latency.Comparison.Ratio,
            latency.P99DifferenceMs,
            drain.Comparison.PipelineToReferences.GetValueOrDefault(DrainMeasure.KcatSide) is var d and > 0 ? d : null,
            produce.Comparison.PipelineToReferences.GetValueOrDefault(ProduceMeasure.KcatSide) is var p and > 0 ? p : null)
        {
            DrainTraced = BenchMath.PairedThroughput(_runs.Where(r => r.Measure == "drain").ToList(), DrainMeasure.Processor, DrainMeasure.ProcessorTraced),
            ProduceTraced = BenchMath.PairedThroughput(_runs.Where(r => r.Measure == "produce").ToList(), ProduceMeasure.Publisher, ProduceMeasure.PublisherTraced),
            ProduceRawTraceparent = BenchMath.PairedThroughput(_runs.Where(r => r.Measure == "produce").ToList(), ProduceMeasure.Raw, ProduceMeasure.RawTraceparent),
            DrainCpuFloor = BenchMath.PairedCpu(drainRuns, DrainMeasure.Raw, DrainMeasure.RawDecodeAggregate),
            DrainCpuOverFloor = BenchMath.PairedCpu(drainRuns, DrainMeasure.RawDecodeAggregate, DrainMeasure.Processor),
        };
        return new BenchReport(ratios, errors.Count > 0, errors, drain, produce, latency, valueBytes, options.Partitions, options.Repeats, _runs);
    }

    private MeasureReport Measure(string measure, string description, long orders, string ceiling, string pipeline, string[] references)
    {
        var runs = _runs.Where(r => r.Measure == measure).ToList();
        var ceilingSide = BenchMath.Median(runs, ceiling, "ceiling");
        var pipelineSide = BenchMath.Median(runs, pipeline, "pipeline");
        var referenceSides = references.Where(s => runs.Any(r => r.Side == s)).Select(s => BenchMath.Median(runs, s, "reference")).ToList();
        return new MeasureReport(measure, description, orders, [ceilingSide, pipelineSide, .. referenceSides],
            BenchMath.CompareThroughput(measure, runs, ceilingSide, pipelineSide, options.Noise, referenceSides));
    }

    private MeasureReport Latency()
    {
        var runs = _runs.Where(r => r.Measure == "latency").ToList();
        var ceiling = BenchMath.Median(runs, RoundTrip.Raw, "ceiling");
        var pipeline = BenchMath.Median(runs, RoundTrip.Pipeline, "pipeline");
        return new MeasureReport(
            "latency",
            $"end to end at {options.LatencyRate:N0} orders/s for {options.LatencyDuration.TotalSeconds:0} s after a {options.LatencyWarmUp.TotalSeconds:0} s unmeasured start",
            runs.FirstOrDefault()?.Orders ?? 0,
            [ceiling, pipeline],
            BenchMath.CompareLatency(runs, ceiling, pipeline, options.Noise))
        {
            P99DifferenceMs = Math.Round(pipeline.LatencyMs!.P99 - ceiling.LatencyMs!.P99, 3),
        };
    }

    private static SideResult Side(MeasureReport measure, string side) => measure.Sides.First(s => s.Side == side);

    private static double? Round(double? value, int digits) => value is { } v ? Math.Round(v, digits) : null;
}
