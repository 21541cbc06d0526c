using Confluent.Kafka;
using Orders.LocalStack;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>
/// One local stack (mock Kafka behind relays, and the registry) on random free ports, shared by
/// the tests of a collection. Each test uses its own topics, subjects and groups.
/// </summary>
public sealed class StackFixture : IAsyncLifetime
{
    private LocalStackHost? _stack;

    public LocalStackHost Stack => _stack ?? throw new InvalidOperationException("The stack has not started.");

    public string BootstrapServers => Stack.BootstrapServers;

    public string RegistryUrl => Stack.SchemaRegistryUrl;

    public async ValueTask InitializeAsync() =>
        _stack = await LocalStackHost.StartAsync(new LocalStackOptions { Brokers = 2, KafkaPort = 0, RegistryPort = 0, Partitions = 3 });

    public async ValueTask DisposeAsync()
    {
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }
    }

    /// <summary>A topic of its own for one test, created up front (the mock has no CreateTopics API).</summary>
    public string CreateTopic(string prefix, int partitions = 3)
    {
        var topic = Unique(prefix);
        Stack.Kafka.Cluster.CreateTopic(topic, partitions, replicationFactor: 2);
        return topic;
    }

    /// <summary>An orders topic of its own with its dead-letter and stats topics, as the stack creates <c>orders</c>.</summary>
    public string CreateOrderTopics(string prefix, int partitions = 3)
    {
        var topic = Unique(prefix);
        CreateOrderTopics(Stack.Kafka, topic, partitions, replicationFactor: 2);
        return topic;
    }

    /// <summary>The topics as the stack creates them for <c>orders</c>: the stats topic compacted, as the processor requires.</summary>
    public static void CreateOrderTopics(Orders.LocalStack.Kafka.LocalKafka kafka, string topic, int partitions, int replicationFactor)
    {
        kafka.Cluster.CreateTopic(topic, partitions, replicationFactor);
        kafka.Cluster.CreateTopic(Orders.Contracts.Topics.DeadLetterFor(topic), partitions, replicationFactor);
        CreateStatsTopic(kafka, topic, partitions, replicationFactor);
    }

    /// <summary>A compacted stats topic for <paramref name="topic"/>.</summary>
    public static void CreateStatsTopic(Orders.LocalStack.Kafka.LocalKafka kafka, string topic, int partitions, int replicationFactor) =>
        kafka.CreateTopic(
            new Orders.LocalStack.Kafka.TopicSpec(Orders.Contracts.Topics.StatsFor(topic), partitions)
            {
                Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
            },
            replicationFactor);

    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public ProducerConfig ProducerConfig() => new()
    {
        BootstrapServers = BootstrapServers,
        EnableIdempotence = true,
        LingerMs = 5,
    };

    public ConsumerConfig ConsumerConfig(string group) => new()
    {
        BootstrapServers = BootstrapServers,
        GroupId = group,
        AutoOffsetReset = AutoOffsetReset.Earliest,
        EnableAutoOffsetStore = false,
        PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
    };
}

[CollectionDefinition(Name)]
public sealed class StackCollection : ICollectionFixture<StackFixture>
{
    public const string Name = "local stack";
}
