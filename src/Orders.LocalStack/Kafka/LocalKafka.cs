using Orders.SchemaRegistry;

namespace Orders.LocalStack.Kafka;

public sealed record TopicSpec(string Name, int Partitions);

public sealed class LocalKafkaOptions
{
    public int Brokers { get; set; } = 1;

    /// <summary>Broker i (from 0) is reachable on Port + i; 0 picks free ports (tests).</summary>
    public int Port { get; set; } = 9092;

    public IList<TopicSpec> Topics { get; } = [];

    /// <summary>
    /// Real Kafka's default is 3 s; the compose file sets 0 as well, so a consumer starts at once.
    /// </summary>
    public TimeSpan GroupInitialRebalanceDelay { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// KIP-848 groups: a crashed member's partitions move after this long. The mock's 45 s default
    /// made a restarted processor wait ~33 s (measured); at 3 s / 500 ms it had them in 3.6 s.
    /// </summary>
    public TimeSpan GroupSessionTimeout { get; set; } = TimeSpan.FromSeconds(3);

    public TimeSpan GroupHeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>
/// The mock cluster behind fixed ports: one relay per broker, metadata advertising the relays,
/// and the system's topics created up front (the mock has no CreateTopics API).
/// </summary>
public sealed class LocalKafka : IAsyncDisposable
{
    private readonly List<TcpRelay> _relays;

    private LocalKafka(MockCluster cluster, List<TcpRelay> relays, string advertisedHost)
    {
        Cluster = cluster;
        _relays = relays;
        BootstrapServers = string.Join(',', relays.Select(r => $"{advertisedHost}:{r.Port}"));
    }

    public MockCluster Cluster { get; }

    /// <summary>The addresses clients use, e.g. <c>localhost:9092</c>.</summary>
    public string BootstrapServers { get; }

    public IReadOnlyList<int> Ports => [.. _relays.Select(r => r.Port)];

    public static LocalKafka Start(LocalKafkaOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Brokers, 1);
        var cluster = MockCluster.Create(options.Brokers);
        var relays = new List<TcpRelay>();
        try
        {
            // With a fixed port the relays listen on both loopbacks, so "localhost" is right for
            // every client; a random port is IPv4 only.
            var advertisedHost = options.Port == 0 ? "127.0.0.1" : "localhost";
            for (var i = 0; i < options.Brokers; i++)
            {
                var relay = TcpRelay.Start(options.Port == 0 ? 0 : options.Port + i, cluster.BrokerEndpoints[i]);
                relays.Add(relay);
                cluster.SetAdvertisedAddress(i + 1, advertisedHost, relay.Port);
            }

            cluster.SetGroupInitialRebalanceDelay(options.GroupInitialRebalanceDelay);
            cluster.SetGroupConsumerTimeouts(options.GroupSessionTimeout, options.GroupHeartbeatInterval);
            var replicationFactor = Math.Min(options.Brokers, 3);
            foreach (var topic in options.Topics)
            {
                cluster.CreateTopic(topic.Name, topic.Partitions, replicationFactor);
            }

            return new LocalKafka(cluster, relays, advertisedHost);
        }
        catch
        {
            foreach (var relay in relays)
            {
                relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            cluster.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync();
        }

        Cluster.Dispose();
    }
}
