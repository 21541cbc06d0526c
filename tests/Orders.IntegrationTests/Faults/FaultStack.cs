using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;
using Orders.SchemaRegistry;
using Orders.SchemaRegistry.Storage;

namespace Orders.IntegrationTests.Faults;

/// <summary>
/// A local stack of a fault test's own (faults are cluster-wide and would leak into other tests):
/// the mock cluster behind relays, and a registry that the test may stop and start again on the
/// same port with the same schemas.
/// </summary>
public sealed class FaultStack : IAsyncDisposable
{
    private readonly SchemaStore _store;
    private RegistryServer? _registry;

    private FaultStack(LocalKafka kafka, RegistryServer registry, SchemaStore store)
    {
        Kafka = kafka;
        _registry = registry;
        _store = store;
        RegistryPort = registry.Url.Port;
    }

    public LocalKafka Kafka { get; }

    public MockCluster Cluster => Kafka.Cluster;

    public int RegistryPort { get; }

    public string RegistryUrl => $"http://127.0.0.1:{RegistryPort}";

    /// <param name="kafkaVersion">The Kafka version the brokers answer as (3.x: no KIP-848); the stack's default if null.</param>
    public static async Task<FaultStack> StartAsync(int brokers = 1, KafkaVersion? kafkaVersion = null)
    {
        var kafka = LocalKafka.Start(new LocalKafkaOptions { Brokers = brokers, Port = 0, KafkaVersion = kafkaVersion ?? KafkaVersion.Default });
        var store = new SchemaStore();
        var registry = await RegistryServer.StartAsync(new RegistryOptions { Port = 0 }, store);
        return new FaultStack(kafka, registry, store);
    }

    public string[] Endpoints(string topic) =>
        ["--bootstrap-servers", Kafka.BootstrapServers, "--schema-registry", RegistryUrl, "--topic", topic];

    /// <summary>An orders topic of its own with its dead-letter and stats topics.</summary>
    public string CreateOrderTopics(string prefix, int partitions, int replicationFactor = 1)
    {
        var topic = StackFixture.Unique(prefix);
        StackFixture.CreateOrderTopics(Kafka, topic, partitions, replicationFactor);
        return topic;
    }

    /// <summary>
    /// Puts every partition of the orders topic, its checkpoints and its dead letters on the brokers
    /// given, and the group's coordinator on another: a fault can then hit one role alone.
    /// </summary>
    public void PlaceOnBrokers(string topic, int partitions, string group, int orders, int checkpoints, int deadLetters, int coordinator)
    {
        for (var p = 0; p < partitions; p++)
        {
            Cluster.SetPartitionLeader(topic, p, orders);
            Cluster.SetPartitionLeader(Topics.StatsFor(topic), p, checkpoints);
            Cluster.SetPartitionLeader(Topics.DeadLetterFor(topic), p, deadLetters);
        }

        Cluster.SetGroupCoordinator(group, coordinator);
    }

    public async Task StopRegistryAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
            _registry = null;
        }
    }

    public async Task StartRegistryAsync() =>
        _registry ??= await RegistryServer.StartAsync(new RegistryOptions { Port = RegistryPort }, _store);

    public async ValueTask DisposeAsync()
    {
        await StopRegistryAsync();
        await Kafka.DisposeAsync();
    }
}
