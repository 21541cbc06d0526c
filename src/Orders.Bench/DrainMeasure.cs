using System.Diagnostics;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Records;

namespace Orders.Bench;

/// <summary>
/// Catch-up: a backlog pre-filled once per repeat, then read to its end by each side with a fresh
/// group (the processor with fresh checkpoint state too, since the topic is new):
/// <list type="bullet">
/// <item><c>raw</c> (the ceiling): a Confluent.Kafka consumer at its best settings that counts each record
/// and stores one offset per partition at the end;</item>
/// <item><c>processor</c> (the pipeline): the processor with its defaults (decode, validate, aggregate, checkpoints);</item>
/// <item><c>raw-store-per-record</c> (a reference): the raw consumer calling StoreOffset for every record, as most consumers do;</item>
/// <item><c>raw-decode-aggregate</c> (a reference, the work's floor): the raw consumer doing, on its own thread, the
/// work no processor can skip: each record decoded by the processor's decoder, validated and added to its
/// partition's aggregate, with nothing else (no second thread, retries, dead letters, checkpoints or
/// metrics). Its CPU over the raw consumer's is the least any processor built on these parts pays;</item>
/// <item><c>kcat</c> (a reference, where installed): the C client.</item>
/// </list>
/// Each side is timed from its first record to its last, so that group joins are not counted; every
/// side must count every record.
/// </summary>
internal sealed class DrainMeasure(BenchKafka kafka, ISchemaRegistryClient registry, Kcat? kcat)
{
    public const string Raw = "raw";
    public const string Processor = "processor";
    public const string RawStorePerRecord = "raw-store-per-record";
    public const string RawDecodeAggregate = "raw-decode-aggregate";
    public const string KcatSide = "kcat";
    public const string ProcessorTraced = "processor-traced";

    public IReadOnlyList<string> Sides =>
        [Raw, Processor, .. kcat is null ? Array.Empty<string>() : [KcatSide], RawStorePerRecord, RawDecodeAggregate, .. kafka.Options.StartTracing is null ? Array.Empty<string>() : [ProcessorTraced]];

    /// <summary>A new topic holding <paramref name="count"/> orders from offset 0 of every partition (checked: retention dropped none).</summary>
    /// <param name="keyed">Each order keyed by its id (as the publisher writes them), or with no key (as the seed-style Python producer does).</param>
    public async Task<string> PrefillAsync(long count, CancellationToken cancellationToken, bool keyed = true)
    {
        var topic = await kafka.CreateTopicsAsync("drain", withProcessorTopics: true);
        var acknowledged = 0L;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = report =>
        {
            if (!report.Error.IsError)
            {
                Interlocked.Increment(ref acknowledged);
            }
        };
        await BlockingCall.RunAsync(
            () =>
            {
                using var producer = new ProducerBuilder<byte[]?, byte[]?>(kafka.RawProducer()).Build();
                var target = new TopicPartition(topic, Partition.Any);
                var message = new Message<byte[]?, byte[]?> { Headers = new Headers() };
                for (long n = 0; n < count && !cancellationToken.IsCancellationRequested; n++)
                {
                    message.Key = keyed ? kafka.Keys[n % BenchKafka.DistinctValues] : null;
                    message.Value = kafka.Values[n % BenchKafka.DistinctValues];
                    message.Timestamp = Timestamp.Default;
                    BenchKafka.Produce(producer, target, message, onDelivery);
                }

                producer.Flush(TimeSpan.FromMinutes(1));
            },
            CancellationToken.None);

        var (low, high) = kafka.Watermarks(topic);
        if (acknowledged != count || low != 0 || high != count)
        {
            throw new InvalidOperationException(
                $"the backlog of {topic} is not whole: {count} produced, {acknowledged} acknowledged, offsets {low} to {high} " +
                "(the local stack keeps ~5 MiB per partition: use more partitions or fewer orders)");
        }

        return topic;
    }

    public Task<SideRun> RunAsync(string side, string topic, long count, CancellationToken cancellationToken) => side switch
    {
        Raw => BlockingCall.RunAsync(() => RawConsumer(topic, count, RawWork.Count, null, cancellationToken), CancellationToken.None),
        RawStorePerRecord => BlockingCall.RunAsync(() => RawConsumer(topic, count, RawWork.StorePerRecord, null, cancellationToken), CancellationToken.None),
        RawDecodeAggregate => RawDecodeAggregateAsync(topic, count, cancellationToken),
        Processor => ProcessorAsync(topic, count, cancellationToken),
        ProcessorTraced => TracedAsync(() => ProcessorAsync(topic, count, cancellationToken)),
        KcatSide => KcatAsync(topic, count, cancellationToken),
        _ => throw new ArgumentOutOfRangeException(nameof(side), side, "no such side"),
    };

    /// <summary>The processor's side with tracing on: the backlog's records carry no trace context, so each record's span is a root, sampled as such.</summary>
    private async Task<SideRun> TracedAsync(Func<Task<SideRun>> side)
    {
        using var tracing = kafka.Options.StartTracing!();
        return await side();
    }

    /// <summary>The floor's side: a decoder of its own, with the backlog's schema resolved ahead, as the processor resolves it before its first record.</summary>
    private async Task<SideRun> RawDecodeAggregateAsync(string topic, long count, CancellationToken cancellationToken)
    {
        var decoder = new OrderDecoder(registry);
        await decoder.ResolveAsync(OrderDecoder.ReadHeader(kafka.Values[0]));
        return await BlockingCall.RunAsync(() => RawConsumer(topic, count, RawWork.DecodeAggregate, decoder, cancellationToken), CancellationToken.None);
    }

    private SideRun RawConsumer(string topic, long count, RawWork work, OrderDecoder? decoder, CancellationToken cancellationToken)
    {
        var side = work switch
        {
            RawWork.StorePerRecord => RawStorePerRecord,
            RawWork.DecodeAggregate => RawDecodeAggregate,
            _ => Raw,
        };
        var aggregates = work == RawWork.DecodeAggregate ? new PartitionAggregate?[kafka.Options.Partitions] : null;
        var windowMinutes = new ProcessorOptions().WindowMinutes;
        var unusable = 0L;
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(kafka.RawConsumer(BenchKafka.Unique($"bench-{side}"))).Build();
        consumer.Subscribe(topic);
        var last = new ConsumeResult<byte[]?, byte[]?>?[kafka.Options.Partitions];
        var counted = 0L;
        Snapshot first = default, end = default;
        var lastProgress = Stopwatch.StartNew();
        var countedAtLastCheck = 0L;
        while (counted < count && !cancellationToken.IsCancellationRequested)
        {
            // At its best, as the processor's polling thread polls: without waiting while records are
            // there (a poll with a timeout reads the clock), with a wait only when none are; the stall
            // is checked only then too, so that no clock is read per record for the bench's sake.
            var record = consumer.Consume(TimeSpan.Zero) ?? consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (record is null || record.IsPartitionEOF)
            {
                if (counted != countedAtLastCheck)
                {
                    countedAtLastCheck = counted;
                    lastProgress.Restart();
                }
                else if (lastProgress.Elapsed >= kafka.Options.StallTimeout)
                {
                    break;
                }

                continue;
            }

            // As the processor's consumer does: the client leaves the topic's name out (ProcessorClientConfig.RecordFields).
            record.Topic = topic;
            if (counted == 0)
            {
                first = Snapshot.Take();
            }

            if (work == RawWork.StorePerRecord)
            {
                consumer.StoreOffset(record);
            }
            else
            {
                last[record.Partition.Value] = record;
            }

            if (aggregates is not null)
            {
                // What the processor's pipeline does for a valid order, handler aside (OrderPipeline, RecordProcessor).
                if (record.Message.Value is { } value && decoder!.TryDecode(value, out var order) && OrderValidator.Validate(order, record.Message.Timestamp.UnixTimestampMs) is null)
                {
                    var aggregate = aggregates[record.Partition.Value] ??= new PartitionAggregate(windowMinutes);
                    aggregate.Add(order.Currency, order.Product, order.Price, order.Quantity, EventTimeWindows.EventTimeMs(order, record.Message.Timestamp.UnixTimestampMs));
                }
                else
                {
                    unusable++;
                }
            }

            if (++counted == count)
            {
                end = Snapshot.Take();
            }
        }

        // One offset per partition: what a consumer that commits after a batch stores.
        foreach (var record in last)
        {
            if (record is not null)
            {
                consumer.StoreOffset(record);
            }
        }

        consumer.Close();
        BenchKafka.Check("drain", side, topic, count, counted);
        if (aggregates?.Sum(a => a?.Count ?? 0) is { } aggregated && aggregated != count)
        {
            throw new InvalidOperationException($"{side} aggregated {aggregated} of the {count} orders of {topic} ({unusable} did not decode as valid orders)");
        }

        return first.To(end, counted, count);
    }

    private async Task<SideRun> ProcessorAsync(string topic, long count, CancellationToken cancellationToken)
    {
        var observer = new DrainObserver(count);
        using var host = kafka.ProcessorHost(topic, registry, observer);
        var status = host.Services.GetRequiredService<ProcessorStatus>();
        var processing = host.Services.GetRequiredService<ProcessorWorker>().Completion;
        await host.StartAsync(cancellationToken);
        long Done() => status.Counters.Processed + status.Counters.DeadLetteredByReason.Values.Sum();
        var counted = 0L;
        var lastProgress = Stopwatch.StartNew();
        while (!observer.Finished.IsCompleted && lastProgress.Elapsed < kafka.Options.StallTimeout && !processing.IsCompleted && !cancellationToken.IsCancellationRequested)
        {
            await Task.WhenAny(observer.Finished, Task.Delay(100, CancellationToken.None));
            if (Done() > counted)
            {
                counted = Done();
                lastProgress.Restart();
            }
        }

        await host.StopAsync(CancellationToken.None);
        await processing;
        BenchKafka.Check("drain", Processor, topic, count, Done());
        if (!observer.Finished.IsCompleted)
        {
            throw new InvalidOperationException($"the processor dead-lettered {status.Counters.DeadLetteredByReason.Values.Sum()} of the {count} valid orders of {topic}");
        }

        return observer.First.To(await observer.Finished, Done(), count);
    }

    private async Task<SideRun> KcatAsync(string topic, long count, CancellationToken cancellationToken)
    {
        // kcat's simple consumer reads every partition from the start and ends at their end (-e), one
        // byte of output per record (-f '.'). Its librdkafka (kcat's own) takes the same fetch wait.
        var result = await kcat!.RunAsync(
            ["-C", "-b", kafka.Options.BootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", ".", "-X", "fetch.wait.max.ms=20"],
            kafka.Options.StallTimeout,
            cancellationToken);
        BenchKafka.Check("drain", KcatSide, topic, count, result.OutputBytes);
        return new SideRun(result.OutputBytes, result.SecondsFromFirstByte, null, null);
    }

    private enum RawWork
    {
        /// <summary>Counts each record (the ceiling).</summary>
        Count,

        /// <summary>Stores each record's offset.</summary>
        StorePerRecord,

        /// <summary>Decodes, validates and aggregates each record (the work's floor).</summary>
        DecodeAggregate,
    }

    /// <summary>Called on the processor's loop for each processed record: the first and the last are the run's bounds.</summary>
    private sealed class DrainObserver(long count) : IRecordObserver
    {
        private readonly TaskCompletionSource<Snapshot> _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private long _seen;

        public Snapshot First { get; private set; }

        public Task<Snapshot> Finished => _finished.Task;

        public void Processed(ConsumeResult<byte[]?, byte[]?> record)
        {
            var seen = ++_seen;
            if (seen == 1)
            {
                First = Snapshot.Take();
            }

            if (seen == count)
            {
                _finished.TrySetResult(Snapshot.Take());
            }
        }
    }
}
