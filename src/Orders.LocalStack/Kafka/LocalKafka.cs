using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.LocalStack.Kafka.Admin;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka;

/// <summary>A topic the stack creates at start, with the configs it is created with (reported by DescribeConfigs).</summary>
public sealed record TopicSpec(string Name, int Partitions)
{
    public IReadOnlyDictionary<string, string> Configs { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// The Apache Kafka version the brokers answer as. Kafka 4.0 brought KIP-848 (the consumer group
/// protocol, ConsumerGroupHeartbeat) and KIP-932 (share groups) to clients; a 3.x broker offers
/// neither, so a client that asks for <c>group.protocol=consumer</c> gets no group.
/// </summary>
public sealed record KafkaVersion(int Major, int Minor)
{
    public static KafkaVersion Default { get; } = new(4, 1);

    /// <summary>Whether the brokers offer the KIP-848 consumer group protocol.</summary>
    public bool HasConsumerGroupProtocol => Major >= 4;

    /// <exception cref="FormatException">Not MAJOR.MINOR, or a version the stack cannot answer as (3.x and 4.x).</exception>
    public static KafkaVersion Parse(string text)
    {
        var parts = text.Split('.');
        if (parts.Length is < 2 or > 3 || !int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var major)
            || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var minor) || minor < 0)
        {
            throw new FormatException($"'{text}' is not a Kafka version (MAJOR.MINOR, e.g. 3.9 or 4.1)");
        }

        return major is 3 or 4
            ? new KafkaVersion(major, minor)
            : throw new FormatException($"the local stack answers as Kafka 3.x or 4.x, not {text}");
    }

    public override string ToString() => $"{Major}.{Minor}";
}

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

    /// <summary>The Kafka version the brokers answer as: 3.x offers no KIP-848 or share-group APIs.</summary>
    public KafkaVersion KafkaVersion { get; set; } = KafkaVersion.Default;

    /// <summary>
    /// The relays read Kafka's framing to serve the admin API the mock lacks (CreateTopics and the
    /// rest) and to refuse record batches above a topic's <c>max.message.bytes</c>. False relays plain
    /// bytes, without either: for measuring what the inspection costs.
    /// </summary>
    public bool InspectProtocol { get; set; } = true;

    /// <summary>
    /// How often every partition's low watermark is checked for records the mock's retention dropped;
    /// zero (the default here; <see cref="LocalStackHost"/> checks every 5 s): never.
    /// </summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.Zero;

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}

/// <summary>
/// The mock cluster behind fixed ports: one relay per broker, metadata advertising the relays, the
/// admin API the mock lacks served by the relays, a live broker named as controller, warnings when
/// retention drops records, and the system's topics created up front.
/// </summary>
public sealed class LocalKafka : IAsyncDisposable
{
    /// <summary>
    /// What a Kafka 3.x broker lacks of the mock's APIs: KIP-848's ConsumerGroupHeartbeat and KIP-932's
    /// share groups (ShareGroupHeartbeat, ShareFetch, ShareAcknowledge).
    /// </summary>
    private static readonly KafkaApiKey[] KafkaFourApis =
        [KafkaApiKey.ConsumerGroupHeartbeat, KafkaApiKey.ShareGroupHeartbeat, KafkaApiKey.ShareFetch, KafkaApiKey.ShareAcknowledge];

    private readonly List<TcpRelay> _relays;
    private readonly MockBrokerClient _client;
    private readonly RetentionWatcher _retention;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _retentionLoop;

    private readonly TopicConfigs _topicConfigs;

    private LocalKafka(
        MockCluster cluster, List<TcpRelay> relays, string advertisedHost, MockBrokerClient client, TopicConfigs topicConfigs, RetentionWatcher retention, LocalKafkaOptions options)
    {
        Cluster = cluster;
        _topicConfigs = topicConfigs;
        KafkaVersion = options.KafkaVersion;
        _relays = relays;
        _client = client;
        _retention = retention;
        BootstrapServers = string.Join(',', relays.Select(r => $"{advertisedHost}:{r.Port}"));
        _retentionLoop = options.RetentionCheckInterval > TimeSpan.Zero
            ? _retention.RunAsync(options.RetentionCheckInterval, _stopping.Token)
            : Task.CompletedTask;
    }

    public MockCluster Cluster { get; }

    public KafkaVersion KafkaVersion { get; }

    /// <summary>The addresses clients use, e.g. <c>localhost:9092</c>.</summary>
    public string BootstrapServers { get; }

    public IReadOnlyList<int> Ports => [.. _relays.Select(r => r.Port)];

    public static LocalKafka Start(LocalKafkaOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Brokers, 1);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<LocalKafka>();
        var cluster = MockCluster.Create(options.Brokers);
        var client = new MockBrokerClient(cluster);
        var relays = new List<TcpRelay>();
        LocalKafka? kafka = null;
        try
        {
            cluster.SetGroupInitialRebalanceDelay(options.GroupInitialRebalanceDelay);
            cluster.SetGroupConsumerTimeouts(options.GroupSessionTimeout, options.GroupHeartbeatInterval);
            if (!options.KafkaVersion.HasConsumerGroupProtocol)
            {
                // Before anything asks: ApiVersions then leaves them out, as a 3.x broker does.
                foreach (var api in KafkaFourApis)
                {
                    cluster.DisableApi(api);
                }
            }

            var topicConfigs = new TopicConfigs();
            RelayProtocol? protocol = null;
            if (options.InspectProtocol)
            {
                // Startup only, before anything listens: blocking on the mock's answer is harmless here.
                var mockApis = Task.Run(() => client.ApiVersionsAsync(1, CancellationToken.None)).GetAwaiter().GetResult();
                var admin = new LocalAdminApi(cluster, client, topicConfigs, options.GroupInitialRebalanceDelay);
                protocol = new RelayProtocol(new ApiSupport(mockApis, LocalAdminApi.Versions, topicConfigs), admin, logger);
            }

            // With a fixed port the relays listen on both loopbacks, so "localhost" is right for
            // every client; a random port is IPv4 only.
            var advertisedHost = options.Port == 0 ? "127.0.0.1" : "localhost";
            for (var i = 0; i < options.Brokers; i++)
            {
                var relay = TcpRelay.Start(options.Port == 0 ? 0 : options.Port + i, cluster.BrokerEndpoints[i], protocol);
                relays.Add(relay);
                cluster.SetAdvertisedAddress(i + 1, advertisedHost, relay.Port);
            }

            var replicationFactor = MockConfigs.DefaultReplicationFactor(options.Brokers);
            kafka = new LocalKafka(cluster, relays, advertisedHost, client, topicConfigs, new RetentionWatcher(cluster, client, topicConfigs, options.TimeProvider, logger), options);
            foreach (var topic in options.Topics)
            {
                kafka.CreateTopic(topic, replicationFactor);
            }

            return kafka;
        }
        catch when (kafka is not null)
        {
            kafka.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        catch
        {
            foreach (var relay in relays)
            {
                relay.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            cluster.Dispose();
            throw;
        }
    }

    /// <summary>Creates a topic with its configs, kept and reported by DescribeConfigs as if CreateTopics had set them.</summary>
    /// <exception cref="ArgumentException">A config the stack does not take.</exception>
    public void CreateTopic(TopicSpec topic, int replicationFactor)
    {
        if (TopicConfigs.Validate(topic.Configs.Select(c => (c.Key, (string?)c.Value))) is { } refused)
        {
            throw new ArgumentException($"topic {topic.Name}: {refused.Message}", nameof(topic));
        }

        Cluster.CreateTopic(topic.Name, topic.Partitions, replicationFactor);
        _topicConfigs.Replace(topic.Name, topic.Configs);
    }

    /// <summary>
    /// Checks every partition's low watermark now (the stack also does so on its own interval) and
    /// warns about records the mock's retention dropped since the previous check.
    /// </summary>
    public Task<IReadOnlyList<DroppedRecords>> CheckRetentionAsync(CancellationToken cancellationToken = default) =>
        _retention.CheckAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }

        await _stopping.CancelAsync();
        await _retentionLoop;
        foreach (var relay in _relays)
        {
            await relay.DisposeAsync();
        }

        await _client.DisposeAsync();
        Cluster.Dispose();
        _stopping.Dispose();
    }
}
