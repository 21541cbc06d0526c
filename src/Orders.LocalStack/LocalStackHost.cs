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

    /// <summary>What the stack cannot do that a real cluster can; users must be told at start.</summary>
    public static IReadOnlyList<string> Limits { get; } =
    [
        "memory only: everything is lost when the stack stops (the registry keeps schemas only with --data-dir)",
        "each partition keeps only its newest ~5 MiB (or 100,000 record batches); older records are dropped, and the stack warns when it happens",
        "admin API: CreateTopics and DeleteTopics work; topic configs are fixed (DescribeConfigs shows them, AlterConfigs accepts only those values); no ListGroups/DescribeGroups, no SASL or TLS",
        "classic consumer groups: a member joining a group (restart, scale-out) waits up to session.timeout.ms - 1 s to be assigned; group.protocol=consumer (KIP-848) assigns at once",
    ];

    public static async Task<LocalStackHost> StartAsync(
        LocalStackOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        var kafkaOptions = new LocalKafkaOptions
        {
            Brokers = options.Brokers,
            Port = options.KafkaPort,
            RetentionCheckInterval = options.RetentionCheckInterval,
        };
        foreach (var topic in TopicsFor(options.Topic))
        {
            kafkaOptions.Topics.Add(new TopicSpec(topic, options.Partitions));
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
