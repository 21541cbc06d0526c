using System.Diagnostics;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using HdrHistogram;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.Bench;

/// <summary>
/// Producing and consuming at once, end to end, at a fixed rate (latency) or as fast as it goes (the
/// relay comparison): <c>raw</c>, a raw producer loop into a consumer that only counts, against the
/// <c>pipeline</c>, <see cref="OrderPublisher"/> into the processor. Latency is from the record's
/// CreateTime to the moment the consumer is done with it, in an HdrHistogram, after an unmeasured start.
/// </summary>
internal sealed class RoundTrip(BenchKafka kafka, ISchemaRegistryClient? registry)
{
    public const string Raw = "raw";
    public const string Pipeline = "pipeline";

    private DateTimeOffset _measureFrom;

    private BenchOptions Options => kafka.Options;

    public async Task<SideRun> LatencyAsync(string side, CancellationToken cancellationToken)
    {
        var count = (long)(Options.LatencyRate * (Options.LatencyWarmUp + Options.LatencyDuration).TotalSeconds);
        var topic = await kafka.CreateTopicsAsync($"latency-{side}", withProcessorTopics: side == Pipeline);
        var histogram = new LongHistogram(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3);
        var run = side == Raw
            ? await RawAsync(topic, count, Options.LatencyRate, histogram, cancellationToken)
            : await PipelineAsync(topic, count, Options.LatencyRate, histogram, cancellationToken);
        static double Ms(LongHistogram h, double percentile) => Math.Round(h.GetValueAtPercentile(percentile) / 1000.0, 3);
        return run with { LatencyMs = new LatencyMs(Ms(histogram, 50), Ms(histogram, 99), Ms(histogram, 99.9)) };
    }

    /// <summary>The raw side alone as fast as it goes, on a topic that exists already.</summary>
    public Task<SideRun> RawThroughputAsync(string topic, long count, CancellationToken cancellationToken) =>
        RawAsync(topic, count, rate: null, latency: null, cancellationToken);

    private async Task<SideRun> RawAsync(string topic, long count, double? rate, LongHistogram? latency, CancellationToken cancellationToken)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(kafka.RawConsumer(BenchKafka.Unique("bench-roundtrip"))).Build();
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

        var start = Snapshot.Take();
        _measureFrom = TimeProvider.System.GetUtcNow() + Options.LatencyWarmUp;
        var producing = BlockingCall.RunAsync(
            () =>
            {
                using var producer = new ProducerBuilder<byte[]?, byte[]?>(kafka.RawProducer()).Build();
                var target = new TopicPartition(topic, Partition.Any);
                var message = new Message<byte[]?, byte[]?> { Headers = new Headers() };
                var pace = Stopwatch.StartNew();
                for (long n = 0; n < count && !cancellationToken.IsCancellationRequested; n++)
                {
                    WaitForTurn(rate, n, pace);
                    message.Key = kafka.Keys[n % BenchKafka.DistinctValues];
                    message.Value = kafka.Values[n % BenchKafka.DistinctValues];
                    message.Timestamp = Timestamp.Default;
                    BenchKafka.Produce(producer, target, message, onDelivery);
                }

                producer.Flush(TimeSpan.FromMinutes(1));
            },
            cancellationToken);

        var counted = 0L;
        var lastProgress = Stopwatch.StartNew();
        while (counted < count && lastProgress.Elapsed < Options.StallTimeout && !cancellationToken.IsCancellationRequested)
        {
            var record = consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null || record.IsPartitionEOF)
            {
                continue;
            }

            counted++;
            RecordLatency(latency, record);
            lastProgress.Restart();
        }

        var end = Snapshot.Take();
        await producing;
        consumer.Close();
        BenchKafka.Check("round trip", Raw, topic, count, counted, Interlocked.Read(ref acknowledged));
        return start.To(end, counted, count);
    }

    private async Task<SideRun> PipelineAsync(string topic, long count, double? rate, LongHistogram? latency, CancellationToken cancellationToken)
    {
        using var host = kafka.ProcessorHost(topic, registry!, latency is null ? null : new LatencyObserver(this, latency));
        var status = host.Services.GetRequiredService<ProcessorStatus>();
        var processing = host.Services.GetRequiredService<ProcessorWorker>().Completion;
        await host.StartAsync(cancellationToken);
        var deadline = Stopwatch.StartNew();
        while (status.View.Partitions.Count < Options.Partitions || status.View.Restoring > 0)
        {
            if (processing.IsCompleted)
            {
                await processing;
            }

            if (deadline.Elapsed > Options.StallTimeout)
            {
                throw new TimeoutException($"the pipeline's processor was not assigned all {Options.Partitions} partitions of {topic} within {Options.StallTimeout}");
            }

            await Task.Delay(20, cancellationToken);
        }

        var publisher = new OrderPublisher(
            new ProducerConfig { BootstrapServers = Options.BootstrapServers },
            registry!,
            new ProducerOptions { Topic = topic, Count = count, Rate = rate, Seed = 7 },
            TimeProvider.System,
            NullLogger<OrderPublisher>.Instance);
        var start = Snapshot.Take();
        _measureFrom = TimeProvider.System.GetUtcNow() + Options.LatencyWarmUp;
        var producing = BlockingCall.RunAsync(() => publisher.RunAsync(cancellationToken), cancellationToken).Unwrap();

        long Done() => status.Counters.Processed + status.Counters.DeadLetteredByReason.Values.Sum();
        var counted = 0L;
        var lastProgress = Stopwatch.StartNew();
        while ((counted = Done()) < count && lastProgress.Elapsed < Options.StallTimeout && !processing.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(5, CancellationToken.None);
            if (Done() > counted)
            {
                lastProgress.Restart();
            }
        }

        var end = Snapshot.Take();
        var produced = await producing;
        await host.StopAsync(CancellationToken.None);
        await processing;
        BenchKafka.Check("round trip", Pipeline, topic, count, Done(), produced.Produced);
        return start.To(end, Done(), count);
    }

    /// <summary>The pipeline's latency: each record as the processor is done with it, measured as the raw side measures its own.</summary>
    private sealed class LatencyObserver(RoundTrip bench, LongHistogram latency) : IRecordObserver
    {
        public void Processed(ConsumeResult<byte[]?, byte[]?> record) => bench.RecordLatency(latency, record);
    }

    private void WaitForAssignment(IConsumer<byte[]?, byte[]?> consumer, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (consumer.Assignment.Count < Options.Partitions)
        {
            if (waited.Elapsed > Options.StallTimeout)
            {
                throw new TimeoutException($"the raw consumer was not assigned all {Options.Partitions} partitions within {Options.StallTimeout}");
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
}
