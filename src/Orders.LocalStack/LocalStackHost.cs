using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.LocalStack.Kafka;
using Orders.SchemaRegistry;
using Orders.SchemaRegistry.Security;
using Orders.SchemaRegistry.Storage;

namespace Orders.LocalStack;

public sealed class LocalStackOptions
{
    public int Brokers { get; set; } = 1;
    public int KafkaPort { get; set; } = 9092;
    public int Partitions { get; set; } = 6;
    public int RegistryPort { get; set; } = 8081;
    public string? DataDirectory { get; set; }
    public string Topic { get; set; } = Topics.Orders;

    /// <summary>The Kafka version the brokers answer as (<c>--kafka-version</c>): 3.x has no KIP-848 consumer groups.</summary>
    public KafkaVersion KafkaVersion { get; set; } = KafkaVersion.Default;

    /// <summary>How often the stack looks for records the mock's retention dropped, to warn about them; zero: never.</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A users file (see <see cref="Orders.SchemaRegistry.Security.RegistryUsers"/>): the registry then requires basic auth. Null: open.</summary>
    public string? RegistryAuthFile { get; set; }
}

/// <summary>Kafka (the mock cluster behind fixed ports) and the Schema Registry, started and stopped together.</summary>
public sealed class LocalStackHost : IAsyncDisposable
{
    private LocalStackHost(LocalKafka kafka, RegistryServer registry)
    {
        Kafka = kafka;
        Registry = registry;
    }

    public LocalKafka Kafka { get; }

    public RegistryServer Registry { get; }

    public string BootstrapServers => Kafka.BootstrapServers;

    public string SchemaRegistryUrl => Registry.Url.ToString().TrimEnd('/');

    /// <summary>What the stack cannot do, or does differently from a real cluster; users must be told at start.</summary>
    public static IReadOnlyList<string> Limits(KafkaVersion version) =>
    [
        "memory only: everything is lost when the stack stops (the registry keeps schemas only with --data-dir)",
        "each partition keeps only its newest ~5 MiB (or 100,000 record batches); older records are dropped, and the stack warns when it happens",
        "topic configs are kept as created or altered and reported by DescribeConfigs; cleanup.policy=compact is accepted but never performed " +
            "(nothing is compacted away, so every key's newest value stays readable); retention.ms deletes what is older, checked every 5 s; " +
            "a topic's max.message.bytes refuses larger record batches as a broker does (unset: up to 100,000,000 bytes, where Kafka's default is 1048588); " +
            "retention.bytes and compression are fixed; no ListGroups/DescribeGroups, no SASL or TLS",
        version.HasConsumerGroupProtocol
            ? $"answers as Kafka {version}: consumer groups use KIP-848 (group.protocol=consumer) with a 3 s session, so a restarted member has its partitions in about 2 s " +
                "(a real broker's default is 45 s); with the classic protocol a joining member waits up to session.timeout.ms - 1 s"
            : $"answers as Kafka {version}: no KIP-848 (no ConsumerGroupHeartbeat), so consumer groups use the classic protocol; a joining member waits up to session.timeout.ms - 1 s",
    ];

    public static async Task<LocalStackHost> StartAsync(
        LocalStackOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var kafkaOptions = new LocalKafkaOptions
        {
            Brokers = options.Brokers,
            Port = options.KafkaPort,
            RetentionCheckInterval = options.RetentionCheckInterval,
            KafkaVersion = options.KafkaVersion,
        };
        foreach (var topic in TopicsFor(options.Topic))
        {
            // The checkpoints' topic compacted, as the processor creates it and as it requires.
            kafkaOptions.Topics.Add(new TopicSpec(topic, options.Partitions)
            {
                Configs = topic == Topics.StatsFor(options.Topic)
                    ? new Dictionary<string, string> { ["cleanup.policy"] = "compact" }
                    : new Dictionary<string, string>(),
            });
        }

        // The users and the schema store first: a bad file or --data-dir fails before anything listens.
        var users = options.RegistryAuthFile is { } authFile ? RegistryUsers.Load(authFile) : null;
        var store = new SchemaStore(options.DataDirectory);
        var kafka = LocalKafka.Start(kafkaOptions, loggerFactory);
        try
        {
            var registry = await RegistryServer.StartAsync(
                new RegistryOptions { Port = options.RegistryPort, Users = users }, store, loggerFactory, cancellationToken);
            return new LocalStackHost(kafka, registry);
        }
        catch
        {
            await kafka.DisposeAsync();
            throw;
        }
    }

    /// <summary>The topics the stack creates at start, all with the same partition count: the source, its dead letters, its checkpoints.</summary>
    public static IReadOnlyList<string> TopicsFor(string topic) => [topic, Topics.DeadLetterFor(topic), Topics.StatsFor(topic)];

    public async ValueTask DisposeAsync()
    {
        await Registry.DisposeAsync();
        await Kafka.DisposeAsync();
    }
}
