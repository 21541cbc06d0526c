using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Confluent.SchemaRegistry;
using HdrHistogram;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Contracts;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.Bench;

public sealed class BenchOptions
{
    public required string BootstrapServers { get; init; }

    public required string SchemaRegistryUrl { get; init; }

    /// <summary>Orders per throughput run, produced and consumed concurrently.</summary>
    public long Count { get; init; } = 200_000;

    /// <summary>Runs of each side, alternating ceiling and pipeline.</summary>
    public int Repeats { get; init; } = 3;

    /// <summary>Partitions of every topic the bench creates (more partitions keep the local stack's per-partition retention out of the way).</summary>
    public int Partitions { get; init; } = 12;

    /// <summary>The fixed rate at which end-to-end latency is measured.</summary>
    public double LatencyRate { get; init; } = 20_000;

    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The first part of each latency run is not measured: a fresh consumer's first fetches (offset
    /// lookups, fetch sessions) would otherwise weigh on the percentiles of one side more than the other's.
    /// </summary>
    public TimeSpan LatencyWarmUp { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>A short unreported run of each side first, so that JIT and connection setup are not measured.</summary>
    public long WarmUpCount { get; init; } = 20_000;

    /// <summary>Longest wait without progress before a run fails its count check.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

public sealed record LatencyMs(double P50, double P99, double P999);

public sealed record Measurement(double Throughput, double CpuMicrosPerOrder, double AllocatedBytesPerOrder, LatencyMs LatencyMs);

/// <summary>One run of one side: its throughput phase and its latency phase, each with a count check.</summary>
public sealed record BenchRun(
    string Side, int Repeat, long Orders, long Counted, double Seconds, double Throughput, double CpuMicrosPerOrder,
    double AllocatedBytesPerOrder, long LatencyOrders, long LatencyCounted, LatencyMs LatencyMs);

public sealed record Ratios(double Throughput, double Cpu, double Allocated, double P99);

public sealed record BenchReport(Measurement Ceiling, Measurement Pipeline, Ratios Ratios, double P99DifferenceMs, int ValueBytes, IReadOnlyList<BenchRun> Runs);

/// <summary>
/// The pipeline against the Kafka client's ceiling, measured side by side in one run, alternating
/// (ceiling, pipeline, ceiling, pipeline, ...), medians of the repeats:
/// <list type="bullet">
/// <item>ceiling: a raw Confluent.Kafka producer of prebuilt values of the real order's wire size,
/// and a consumer that only counts and stores offsets, with the same client settings;</item>
/// <item>pipeline: <see cref="OrderPublisher"/> into the processor (<see cref="ProcessorWorker"/>) (decode, validate,
/// aggregate, checkpointed state, offsets) with their default settings.</item>
/// </list>
/// CPU and allocations are this process's (the Kafka cluster must run elsewhere, e.g. <c>orders
/// stack</c> in another process), so they are the clients' own. Latency is end to end (record
/// timestamp to the moment the consumer is done with it) at a fixed rate, in an HdrHistogram.
/// </summary>
public sealed class PipelineBench(BenchOptions options, Action<string> progress)
{
    private const int DistinctValues = 4096;

    private readonly List<BenchRun> _runs = [];
    private DateTimeOffset _measureFrom;
    private byte[][] _values = [];
    private byte[][] _keys = [];

    public async Task<BenchReport> RunAsync(CancellationToken cancellationToken)
    {
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = options.SchemaRegistryUrl });
        await PrepareValuesAsync(registry);
        progress($"values of {_values[0].Length} bytes (the wire size of a generated order), keys of {_keys[0].Length}");

        progress("warming up both sides");
        await ThroughputAsync("ceiling", registry, options.WarmUpCount, cancellationToken);
        await ThroughputAsync("pipeline", registry, options.WarmUpCount, cancellationToken);

        for (var repeat = 1; repeat <= options.Repeats; repeat++)
        {
            foreach (var side in new[] { "ceiling", "pipeline" })
            {
                var (counted, seconds, cpu, allocated) = await ThroughputAsync(side, registry, options.Count, cancellationToken);
                var latencyOrders = (long)(options.LatencyRate * (options.LatencyWarmUp + options.LatencyDuration).TotalSeconds);
                var (latencyCounted, latency) = await LatencyAsync(side, registry, latencyOrders, cancellationToken);
                var run = new BenchRun(
                    side, repeat, options.Count, counted, Math.Round(seconds, 3), Math.Round(options.Count / seconds), Math.Round(cpu, 3), Math.Round(allocated, 1),
                    latencyOrders, latencyCounted, latency);
                _runs.Add(run);
                progress($"{side} #{repeat}: {run.Throughput:N0} orders/s, {run.CpuMicrosPerOrder:F2} µs CPU and {run.AllocatedBytesPerOrder:N0} B allocated per order; " +
                    $"latency at {options.LatencyRate:N0}/s p50 {latency.P50:F2} ms, p99 {latency.P99:F2} ms, p99.9 {latency.P999:F2} ms");
            }
        }

        var ceiling = Median("ceiling");
        var pipeline = Median("pipeline");
        var ratios = new Ratios(
            Math.Round(pipeline.Throughput / ceiling.Throughput, 3),
            Math.Round(pipeline.CpuMicrosPerOrder / ceiling.CpuMicrosPerOrder, 3),
            Math.Round(pipeline.AllocatedBytesPerOrder / Math.Max(ceiling.AllocatedBytesPerOrder, 1), 3),
            Math.Round(pipeline.LatencyMs.P99 / ceiling.LatencyMs.P99, 3));
        return new BenchReport(ceiling, pipeline, ratios, Math.Round(pipeline.LatencyMs.P99 - ceiling.LatencyMs.P99, 3), _values[0].Length, _runs);
    }

    private Measurement Median(string side)
    {
        var runs = _runs.Where(r => r.Side == side).ToList();
        static double Mid(IEnumerable<double> values) => MedianOf(values);

        return new Measurement(
            Math.Round(Mid(runs.Select(r => r.Throughput))),
            Math.Round(Mid(runs.Select(r => r.CpuMicrosPerOrder)), 3),
            Math.Round(Mid(runs.Select(r => r.AllocatedBytesPerOrder)), 1),
            new LatencyMs(Mid(runs.Select(r => r.LatencyMs.P50)), Mid(runs.Select(r => r.LatencyMs.P99)), Mid(runs.Select(r => r.LatencyMs.P999))));
    }

    /// <summary>The median of the repeats (the mean of the middle two for an even count).</summary>
    public static double MedianOf(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>
    /// The ceiling alone, on a topic that already exists in the cluster of <see cref="BenchOptions.BootstrapServers"/>
    /// (the relay comparison creates its topics on the mock directly): orders per second.
    /// </summary>
    public async Task<double> CeilingThroughputAsync(string topic, long count, CancellationToken cancellationToken)
    {
        if (_values.Length == 0)
        {
            // The ceiling never decodes: any schema id gives values of the real wire size.
            PrepareValues(schemaId: 1);
        }

        var result = await CeilingAsync(topic, count, rate: null, latency: null, cancellationToken);
        return count / result.Seconds;
    }

    /// <summary>The ceiling's values: real orders from the generator, serialized, so their sizes are the pipeline's.</summary>
    private async Task PrepareValuesAsync(ISchemaRegistryClient registry) =>
        PrepareValues(await new OrderSerializer(registry).GetSchemaIdAsync(Topics.Orders));

    private void PrepareValues(int schemaId)
    {
        var generator = new OrderGenerator(new Random(1), TimeProvider.System);
        _values = new byte[DistinctValues][];
        _keys = new byte[DistinctValues][];
        for (var i = 0; i < DistinctValues; i++)
        {
            var (order, _) = generator.Next();
            _values[i] = OrderSerializer.ToArray(order, schemaId);
            _keys[i] = Encoding.UTF8.GetBytes(order.OrderId);
        }
    }

    private async Task<(long Counted, double Seconds, double CpuMicrosPerOrder, double AllocatedPerOrder)> ThroughputAsync(
        string side, ISchemaRegistryClient registry, long count, CancellationToken cancellationToken)
    {
        var topic = await CreateTopicsAsync(side, withProcessorTopics: side == "pipeline");
        var result = side == "ceiling"
            ? await CeilingAsync(topic, count, rate: null, latency: null, cancellationToken)
            : await PipelineAsync(topic, registry, count, rate: null, latency: null, cancellationToken);
        return (result.Counted, result.Seconds, result.CpuMicros / count, (double)result.Allocated / count);
    }

    private async Task<(long Counted, LatencyMs Latency)> LatencyAsync(string side, ISchemaRegistryClient registry, long count, CancellationToken cancellationToken)
    {
        var topic = await CreateTopicsAsync(side, withProcessorTopics: side == "pipeline");
        var histogram = new LongHistogram(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3);
        var result = side == "ceiling"
            ? await CeilingAsync(topic, count, options.LatencyRate, histogram, cancellationToken)
            : await PipelineAsync(topic, registry, count, options.LatencyRate, histogram, cancellationToken);
        static double Ms(LongHistogram h, double percentile) => Math.Round(h.GetValueAtPercentile(percentile) / 1000.0, 3);
        return (result.Counted, new LatencyMs(Ms(histogram, 50), Ms(histogram, 99), Ms(histogram, 99.9)));
    }

    private sealed record RunResult(long Counted, double Seconds, double CpuMicros, long Allocated);

    private async Task<RunResult> CeilingAsync(string topic, long count, double? rate, LongHistogram? latency, CancellationToken cancellationToken)
    {
        var group = Unique("bench-ceiling");
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(ProcessorClientConfig.Consumer(Consumer(), group)).Build();
        consumer.Subscribe(topic);
        WaitForAssignment(consumer, cancellationToken);

        var acknowledged = 0L;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = report =>
        {
            if (!report.Error.IsError)
            {
                Interlocked.Increment(ref acknowledged);
            }
        };

        var meter = Meter.Start();
        _measureFrom = TimeProvider.System.GetUtcNow() + options.LatencyWarmUp;
        var producing = Task.Factory.StartNew(
            () =>
            {
                var config = Producer();
                config.Set("dotnet.producer.delivery.report.fields", "status");
                using var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build();
                var target = new TopicPartition(topic, Partition.Any);
                var message = new Message<byte[]?, byte[]?>();
                var pace = Stopwatch.StartNew();
                for (long n = 0; n < count && !cancellationToken.IsCancellationRequested; n++)
                {
                    WaitForTurn(rate, n, pace);
                    message.Key = _keys[n % DistinctValues];
                    message.Value = _values[n % DistinctValues];
                    message.Timestamp = Timestamp.Default;
                    while (true)
                    {
                        try
                        {
                            producer.Produce(target, message, onDelivery);
                            break;
                        }
                        catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                        {
                            producer.Poll(TimeSpan.FromMilliseconds(10));
                        }
                    }
                }

                producer.Flush(TimeSpan.FromMinutes(1));
            },
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        var counted = 0L;
        var lastProgress = Stopwatch.StartNew();
        while (counted < count && lastProgress.Elapsed < options.StallTimeout && !cancellationToken.IsCancellationRequested)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null || record.IsPartitionEOF)
            {
                continue;
            }

            counted++;
            consumer.StoreOffset(record);
            RecordLatency(latency, record);
            lastProgress.Restart();
        }

        var measured = meter.Stop();
        await producing;
        consumer.Close();
        Check("ceiling", topic, count, counted, Interlocked.Read(ref acknowledged));
        return measured with { Counted = counted };
    }

    private async Task<RunResult> PipelineAsync(string topic, ISchemaRegistryClient registry, long count, double? rate, LongHistogram? latency, CancellationToken cancellationToken)
    {
        // The processor as every verb hosts it, with its defaults: only where it reads and writes is set.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = options.BootstrapServers,
            ["Processor:Topic"] = topic,
            ["Processor:GroupId"] = Unique("bench-pipeline"),
        });
        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(NullLoggerFactory.Instance));
        builder.Services.AddSingleton(registry);
        if (latency is not null)
        {
            builder.Services.AddSingleton<IRecordObserver>(new LatencyObserver(this, latency));
        }

        builder.AddOrderProcessor();
        using var host = builder.Build();
        var status = host.Services.GetRequiredService<ProcessorStatus>();
        var processing = host.Services.GetRequiredService<ProcessorWorker>().Completion;
        await host.StartAsync(cancellationToken);
        var deadline = Stopwatch.StartNew();
        while (status.View.Partitions.Count < options.Partitions || status.View.Restoring > 0)
        {
            if (processing.IsCompleted)
            {
                await processing;
            }

            if (deadline.Elapsed > options.StallTimeout)
            {
                throw new TimeoutException($"the pipeline's processor was not assigned all {options.Partitions} partitions of {topic} within {options.StallTimeout}");
            }

            await Task.Delay(20, cancellationToken);
        }

        var publisher = new OrderPublisher(
            Producer(), registry, new ProducerOptions { Topic = topic, Count = count, Rate = rate, Seed = 7 }, TimeProvider.System, NullLogger<OrderPublisher>.Instance);
        var meter = Meter.Start();
        _measureFrom = TimeProvider.System.GetUtcNow() + options.LatencyWarmUp;
        var producing = Task.Factory.StartNew(() => publisher.RunAsync(cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

        long Done() => status.Counters.Processed + status.Counters.DeadLetteredByReason.Values.Sum();
        var counted = 0L;
        var lastProgress = Stopwatch.StartNew();
        while ((counted = Done()) < count && lastProgress.Elapsed < options.StallTimeout && !processing.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(5, CancellationToken.None);
            if (Done() > counted)
            {
                lastProgress.Restart();
            }
        }

        var measured = meter.Stop();
        var produced = await producing;
        await host.StopAsync(CancellationToken.None);
        await processing;
        Check("pipeline", topic, count, Done(), produced.Produced);
        return measured with { Counted = Done() };
    }

    /// <summary>The pipeline's latency: each record as the processor is done with it, measured as the ceiling measures its own.</summary>
    private sealed class LatencyObserver(PipelineBench bench, LongHistogram latency) : IRecordObserver
    {
        public void Processed(ConsumeResult<byte[]?, byte[]?> record) => bench.RecordLatency(latency, record);
    }

    private static void Check(string side, string topic, long expected, long counted, long acknowledged)
    {
        if (counted != expected || acknowledged != expected)
        {
            throw new InvalidOperationException(
                $"count check failed for the {side} on {topic}: {expected} sent, {acknowledged} acknowledged, {counted} consumed");
        }
    }

    private void WaitForAssignment(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (consumer.Assignment.Count < options.Partitions)
        {
            if (waited.Elapsed > options.StallTimeout)
            {
                throw new TimeoutException($"the ceiling's consumer was not assigned all {options.Partitions} partitions within {options.StallTimeout}");
            }

            cancellationToken.ThrowIfCancellationRequested();
            consumer.Consume(TimeSpan.FromMilliseconds(50));
        }
    }

    private static void WaitForTurn(double? rate, long n, Stopwatch pace)
    {
        if (rate is not { } perSecond)
        {
            return;
        }

        var due = TimeSpan.FromSeconds(n / perSecond);
        var ahead = due - pace.Elapsed;
        if (ahead > TimeSpan.FromMilliseconds(1))
        {
            Thread.Sleep(ahead);
        }
    }

    /// <summary>Records the latency of a record produced after the latency run's warm-up.</summary>
    private void RecordLatency(LongHistogram? latency, ConsumeResult<byte[]?, byte[]?> record)
    {
        if (latency is not null && record.Message.Timestamp.UnixTimestampMs >= _measureFrom.ToUnixTimeMilliseconds())
        {
            latency.RecordValue(LatencyMicros(record.Message.Timestamp));
        }
    }

    /// <summary>From the record's timestamp (CreateTime, whole milliseconds) to now; both sides measure it the same way.</summary>
    private static long LatencyMicros(Timestamp timestamp) =>
        Math.Max(0, (TimeProvider.System.GetUtcNow() - DateTimeOffset.FromUnixTimeMilliseconds(timestamp.UnixTimestampMs)).Ticks / TimeSpan.TicksPerMicrosecond);

    private async Task<string> CreateTopicsAsync(string side, bool withProcessorTopics)
    {
        var topic = Unique($"bench-{side}");
        using var admin = new AdminClientBuilder(new AdminClientConfig(Producer())).Build();
        List<TopicSpecification> specs = [new() { Name = topic, NumPartitions = options.Partitions, ReplicationFactor = -1 }];
        if (withProcessorTopics)
        {
            specs.Add(new() { Name = Topics.DeadLetterFor(topic), NumPartitions = options.Partitions, ReplicationFactor = -1 });
            specs.Add(new() { Name = Topics.StatsFor(topic), NumPartitions = options.Partitions, ReplicationFactor = -1 });
        }

        await admin.CreateTopicsAsync(specs);
        return topic;
    }

    private ConsumerConfig Consumer() => new() { BootstrapServers = options.BootstrapServers };

    private ProducerConfig Producer() => ProcessorClientConfig.Producer(new ProducerConfig { BootstrapServers = options.BootstrapServers });

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>This process's CPU time and allocations over a run.</summary>
    private readonly record struct Meter(long StartedAt, TimeSpan Cpu, long Allocated)
    {
        public static Meter Start()
        {
            using var process = Process.GetCurrentProcess();
            return new Meter(Stopwatch.GetTimestamp(), process.TotalProcessorTime, GC.GetTotalAllocatedBytes(precise: true));
        }

        public RunResult Stop()
        {
            var seconds = Stopwatch.GetElapsedTime(StartedAt).TotalSeconds;
            using var process = Process.GetCurrentProcess();
            return new RunResult(0, seconds, (process.TotalProcessorTime - Cpu).TotalMicroseconds, GC.GetTotalAllocatedBytes(precise: true) - Allocated);
        }
    }
}
