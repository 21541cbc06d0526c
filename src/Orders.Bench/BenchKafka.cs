using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Contracts;
using Orders.Processor.Hosting;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.Bench;

/// <summary>
/// What every measure shares: the cluster's topics and watermarks, the client settings of each side,
/// the prebuilt values of the raw sides, and the processor hosted as every verb hosts it.
/// </summary>
internal sealed class BenchKafka(BenchOptions options)
{
    public const int DistinctValues = 4096;

    public BenchOptions Options => options;

    /// <summary>Real orders from the generator, serialized: the raw sides' values are the pipeline's in size and content.</summary>
    public byte[][] Values { get; private set; } = [];

    /// <summary>The orders' ids in UTF-8 (36 bytes), the key the publisher gives each order.</summary>
    public byte[][] Keys { get; private set; } = [];

    public int ValueBytes => Values.Length == 0 ? 0 : Values[0].Length;

    /// <summary>The group protocol of the raw consumers: the one the processor picks on this cluster.</summary>
    public GroupProtocol GroupProtocol { get; private set; } = GroupProtocol.Classic;

    public async Task PrepareValuesAsync(ISchemaRegistryClient registry)
    {
        PrepareValues(await new OrderSerializer(registry).GetSchemaIdAsync(Topics.Orders));
        var config = new ConsumerConfig { BootstrapServers = options.BootstrapServers };
        GroupProtocol = GroupProtocolChoice.Decide(config, await Kafka.BrokerApis.ProbeAsync(config, TimeSpan.FromSeconds(10))).Protocol;
    }

    /// <summary>Values with any schema id, for sides that never decode (the relay comparison).</summary>
    public void PrepareValues(int schemaId)
    {
        var generator = new OrderGenerator(new Random(1), TimeProvider.System);
        Values = new byte[DistinctValues][];
        Keys = new byte[DistinctValues][];
        for (var i = 0; i < DistinctValues; i++)
        {
            var (order, _) = generator.Next();
            Values[i] = OrderSerializer.ToArray(order, schemaId);
            Keys[i] = Encoding.UTF8.GetBytes(order.OrderId);
        }
    }

    /// <summary>The publisher's settings (<see cref="PublisherClientConfig"/>), for the raw producer loop too.</summary>
    public ProducerConfig PublisherProducer() => PublisherClientConfig.Producer(new ProducerConfig { BootstrapServers = options.BootstrapServers });

    /// <summary>The raw producer loop: the publisher's settings; its handler reads the status only.</summary>
    public ProducerConfig RawProducer()
    {
        var config = PublisherProducer();
        config.Set("dotnet.producer.delivery.report.fields", "status");
        return config;
    }

    /// <summary>
    /// The raw consumer at its best settings: the processor's (<see cref="ProcessorClientConfig"/>: its
    /// fetch settings are tuned for catch-up) without the statistics the processor reads for lag.
    /// </summary>
    public ConsumerConfig RawConsumer(string group)
    {
        var config = ProcessorClientConfig.ForProtocol(ProcessorClientConfig.Consumer(new ConsumerConfig { BootstrapServers = options.BootstrapServers }, group), GroupProtocol);
        config.StatisticsIntervalMs = 0;

        // The fields of each record the processor has the client make (not the topic's name); with none at all
        // the client is faster still, but a ceiling that leaves out what the pipeline must read is not one.
        config.ConsumeResultFields = ProcessorClientConfig.RecordFields;
        return config;
    }

    /// <returns>The name of a fresh topic of <see cref="BenchOptions.Partitions"/> partitions (with the processor's dead-letter and checkpoint topics when asked).</returns>
    public async Task<string> CreateTopicsAsync(string prefix, bool withProcessorTopics)
    {
        var topic = Unique($"bench-{prefix}");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = options.BootstrapServers }).Build();
        List<TopicSpecification> specs = [new() { Name = topic, NumPartitions = options.Partitions, ReplicationFactor = -1 }];
        if (withProcessorTopics)
        {
            specs.Add(new() { Name = Topics.DeadLetterFor(topic), NumPartitions = options.Partitions, ReplicationFactor = -1 });
            // Compacted, as the processor requires of a stats topic it did not create.
            specs.Add(new() { Name = Topics.StatsFor(topic), NumPartitions = options.Partitions, ReplicationFactor = -1, Configs = new() { ["cleanup.policy"] = "compact" } });
        }

        await admin.CreateTopicsAsync(specs);
        return topic;
    }

    /// <summary>The sum over the topic's partitions of the low and the high watermark.</summary>
    public (long Low, long High) Watermarks(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = options.BootstrapServers, GroupId = Unique("bench-watermarks") }).Build();
        long low = 0, high = 0;
        for (var p = 0; p < options.Partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            low += marks.Low.Value;
            high += marks.High.Value;
        }

        return (low, high);
    }

    /// <summary>The processor as every verb hosts it, with its defaults: only where it reads and writes is set.</summary>
    /// <param name="settings">More settings (the handler mode's simulated downstream), over those.</param>
    public IHost ProcessorHost(string topic, ISchemaRegistryClient registry, IRecordObserver? observer, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = options.BootstrapServers,
            ["Processor:Topic"] = topic,
            ["Processor:GroupId"] = Unique("bench-processor"),
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(NullLoggerFactory.Instance));
        builder.Services.AddSingleton(registry);
        if (observer is not null)
        {
            builder.Services.AddSingleton(observer);
        }

        builder.AddOrderProcessor();
        return builder.Build();
    }

    /// <summary>Produces until the client took the message, waiting for deliveries while its queue is full.</summary>
    public static void Produce<TKey, TValue>(IProducer<TKey, TValue> producer, TopicPartition target, Message<TKey, TValue> message, Action<DeliveryReport<TKey, TValue>> onDelivery)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message, onDelivery);
                return;
            }
            catch (ProduceException<TKey, TValue> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    public static void Check(string measure, string side, string topic, long expected, long counted, long? acknowledged = null)
    {
        if (counted != expected || (acknowledged is { } acked && acked != expected))
        {
            throw new InvalidOperationException(
                $"count check failed for the {measure} of {side} on {topic}: {expected} expected, " +
                (acknowledged is null ? "" : $"{acknowledged} acknowledged, ") + $"{counted} counted");
        }
    }
}
