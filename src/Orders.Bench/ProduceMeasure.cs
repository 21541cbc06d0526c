using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Producer;

namespace Orders.Bench;

/// <summary>
/// Publishing, each side into a fresh topic. Throughput is timed over the producing alone, from the
/// first message handed to the client to the end of the flush (the last delivery), as a plain producer
/// loop is timed; building the client, its first metadata request and its close are left out, which
/// were 8-12% of a 500,000-message run. CPU and allocations per order are of the whole run, client
/// build and close included, on both sides alike.
/// <list type="bullet">
/// <item><c>raw</c> (the ceiling): a Confluent.Kafka producer loop of prebuilt values of the order's wire
/// size, one message instance with one empty header list, one shared delivery handler, the publisher's
/// settings (<see cref="PublisherClientConfig"/>): what the publisher does, less generating and serializing;</item>
/// <item><c>publisher</c> (the pipeline): <see cref="OrderPublisher"/> with its defaults (generate, serialize, produce, count deliveries);</item>
/// <item><c>kcat</c> (a reference, where installed): the C client producing lines of the same sizes from a file, the same settings.</item>
/// </list>
/// Every side must have every order acknowledged, and the topic's offsets must say so too.
/// </summary>
internal sealed class ProduceMeasure(BenchKafka kafka, ISchemaRegistryClient registry, Kcat? kcat) : IDisposable
{
    public const string Raw = "raw";
    public const string Publisher = "publisher";
    public const string KcatSide = "kcat";
    public const string PublisherTraced = "publisher-traced";

    /// <summary>With tracing: the raw loop with one prebuilt W3C <c>traceparent</c> header on every message, what the client itself pays to carry it.</summary>
    public const string RawTraceparent = "raw-traceparent";

    private readonly Dictionary<long, string> _kcatInputs = [];

    public IReadOnlyList<string> Sides =>
        [Raw, Publisher, .. kcat is null ? Array.Empty<string>() : [KcatSide], .. kafka.Options.StartTracing is null ? Array.Empty<string>() : [PublisherTraced, RawTraceparent]];

    public async Task<SideRun> RunAsync(string side, long count, CancellationToken cancellationToken)
    {
        var topic = await kafka.CreateTopicsAsync($"produce-{side}", withProcessorTopics: false);
        var run = side switch
        {
            Raw => await BlockingCall.RunAsync(() => RawLoop(topic, count, traceparent: false, cancellationToken), cancellationToken),
            RawTraceparent => await BlockingCall.RunAsync(() => RawLoop(topic, count, traceparent: true, cancellationToken), cancellationToken),
            Publisher => await PublisherAsync(topic, count, cancellationToken),
            PublisherTraced => await TracedAsync(() => PublisherAsync(topic, count, cancellationToken)),
            KcatSide => await KcatAsync(topic, count, cancellationToken),
            _ => throw new ArgumentOutOfRangeException(nameof(side), side, "no such side"),
        };

        // The broker's word, whatever the side counted: the topic is new, so its end offsets add up to what it took.
        BenchKafka.Check("produce", side, topic, count, kafka.Watermarks(topic).High, run.Counted);
        return run;
    }

    public void Dispose()
    {
        foreach (var file in _kcatInputs.Values)
        {
            File.Delete(file);
        }
    }

    private SideRun RawLoop(string topic, long count, bool traceparent, CancellationToken cancellationToken)
    {
        var acknowledged = 0L;
        Action<DeliveryReport<byte[]?, byte[]?>> onDelivery = report =>
        {
            if (!report.Error.IsError)
            {
                Interlocked.Increment(ref acknowledged);
            }
        };

        var start = Snapshot.Take();
        long producingFrom, producingTo;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(kafka.RawProducer()).Build())
        {
            // As the publisher does before its first order: with the topic's partitions known, no
            // message waits in librdkafka's unassigned queue to be partitioned later.
            using (var admin = new DependentAdminClientBuilder(producer.Handle).Build())
            {
                admin.GetMetadata(topic, TimeSpan.FromSeconds(10));
            }

            var target = new TopicPartition(topic, Partition.Any);
            var message = new Message<byte[]?, byte[]?> { Headers = new Headers() };
            if (traceparent)
            {
                message.Headers.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"u8.ToArray());
            }

            producingFrom = Stopwatch.GetTimestamp();
            for (long n = 0; n < count && !cancellationToken.IsCancellationRequested; n++)
            {
                message.Key = kafka.Keys[n % BenchKafka.DistinctValues];
                message.Value = kafka.Values[n % BenchKafka.DistinctValues];
                message.Timestamp = Timestamp.Default;
                BenchKafka.Produce(producer, target, message, onDelivery);
            }

            producer.Flush(TimeSpan.FromMinutes(1));
            producingTo = Stopwatch.GetTimestamp();
        }

        return start.To(Snapshot.Take(), Interlocked.Read(ref acknowledged), count) with
        {
            Seconds = Stopwatch.GetElapsedTime(producingFrom, producingTo).TotalSeconds,
        };
    }

    /// <summary>The publisher's side with tracing on: a send span (sampled or not) and trace headers on every order.</summary>
    private async Task<SideRun> TracedAsync(Func<Task<SideRun>> side)
    {
        using var tracing = kafka.Options.StartTracing!();
        return await side();
    }

    private async Task<SideRun> PublisherAsync(string topic, long count, CancellationToken cancellationToken)
    {
        // As `orders produce` builds it: configuration's settings (here only the address), the publisher's defaults on top.
        var publisher = new OrderPublisher(
            new ProducerConfig { BootstrapServers = kafka.Options.BootstrapServers },
            registry,
            new ProducerOptions { Topic = topic, Count = count, Seed = 7 },
            TimeProvider.System,
            NullLogger<OrderPublisher>.Instance);
        var start = Snapshot.Take();
        var summary = await BlockingCall.RunAsync(() => publisher.RunAsync(cancellationToken), cancellationToken).Unwrap();

        // Its own producing window: from its first order handed to the client to its flush's end.
        return start.To(Snapshot.Take(), summary.Produced, count) with { Seconds = summary.ProducingSeconds };
    }

    private async Task<SideRun> KcatAsync(string topic, long count, CancellationToken cancellationToken)
    {
        List<string> arguments = ["-P", "-b", kafka.Options.BootstrapServers, "-t", topic, "-K", "\t", "-l", KcatInput(count), "-q"];
        foreach (var (key, value) in kafka.PublisherProducer())
        {
            if (key != "bootstrap.servers" && !key.StartsWith("dotnet.", StringComparison.Ordinal))
            {
                arguments.AddRange(["-X", $"{key}={value}"]);
            }
        }

        // A producer's whole run, start-up and reading its input included (a few tens of ms).
        var result = await kcat!.RunAsync(arguments, kafka.Options.StallTimeout, cancellationToken);
        return new SideRun(count, result.Seconds, null, null);
    }

    /// <summary>Lines of key, tab, value, of the sizes of the raw side's (kcat's input is text: the values are printable).</summary>
    private string KcatInput(long count)
    {
        if (_kcatInputs.TryGetValue(count, out var path))
        {
            return path;
        }

        path = Path.Combine(Path.GetTempPath(), $"orders-bench-kcat-{Environment.ProcessId}-{count}.txt");
        var random = new Random(3);
        const string Printable = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        var values = Enumerable.Range(0, BenchKafka.DistinctValues)
            .Select(_ => new string([.. Enumerable.Range(0, kafka.ValueBytes).Select(_ => Printable[random.Next(Printable.Length)])]))
            .ToArray();
        using (var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20))
        {
            for (long n = 0; n < count; n++)
            {
                writer.Write(Encoding.UTF8.GetString(kafka.Keys[n % BenchKafka.DistinctValues]));
                writer.Write('\t');
                writer.Write(values[n % BenchKafka.DistinctValues]);
                writer.Write('\n');
            }
        }

        _kcatInputs[count] = path;
        return path;
    }
}
