using System.Globalization;

namespace Orders.LocalStack.Kafka.Admin;

/// <summary>A config as DescribeConfigs reports it: what the mock really does, read-only.</summary>
internal sealed record ConfigEntry(string Name, string Value, ConfigType Type, string Documentation);

/// <summary>Kafka's ConfigType (DescribeConfigs v3+).</summary>
internal enum ConfigType : sbyte
{
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// <summary>
/// The limits librdkafka's mock cluster applies (rdkafka_mock.c), and the brokers' configs as
/// DescribeConfigs reports them (read-only: the mock has no way to change them). Topic configs are
/// in <see cref="TopicConfigs"/>.
/// </summary>
internal static class MockConfigs
{
    /// <summary><c>mpart->max_size</c>: bytes of record batches a partition keeps.</summary>
    public const long RetentionBytes = 5 * 1024 * 1024;

    /// <summary><c>mpart->max_cnt</c>: record batches (not records) a partition keeps.</summary>
    public const int RetentionBatches = 100_000;

    /// <summary>librdkafka's receive.message.max.bytes default, the mock's only size check on a request (and so on a batch).</summary>
    public const int MaxRequestBytes = 100_000_000;

    /// <summary><c>mcluster->defaults.partition_cnt</c>: partitions of auto-created topics and of CreateTopics with -1.</summary>
    public const int DefaultPartitions = 4;

    /// <summary>What the stack accepts in one CreateTopics; the mock allocates every partition at once.</summary>
    public const int MaxPartitions = 10_000;

    public static int DefaultReplicationFactor(int brokers) => Math.Min(3, brokers);

    private const string RetentionDoc =
        "Each partition keeps only its newest 5 MiB (5,242,880 bytes) of record batches, or 100,000 batches, whichever is less (rdkafka_mock.c); older batches are dropped. Compression and more partitions fit more records.";

    private const string NoTimeRetentionDoc = "No time-based retention: records are dropped only by the size and batch-count limits.";

    private const string CleanupDoc = "Old batches are deleted by the retention limits; the local stack never compacts.";

    private const string MaxMessageDoc =
        "No per-batch limit: a request may be up to 100,000,000 bytes (receive.message.max.bytes of the mock); a batch larger than the retention keeps its partition to itself until the next batch arrives.";

    private const string CompressionDoc = "Batches are stored as the producer sent them, compressed or not.";

    private const string MinIsrDoc = "The mock has no replication: every replica is always in sync, and acks=all is acknowledged at once.";

    public static IReadOnlyList<ConfigEntry> Broker(int brokerId, int brokers, TimeSpan groupInitialRebalanceDelay) =>
    [
        new("auto.create.topics.enable", "true", ConfigType.Boolean, "A producer's or consumer's metadata request for an unknown topic creates it with num.partitions partitions."),
        new("broker.id", Invariant(brokerId), ConfigType.Int, "Brokers are numbered from 1."),
        new("compression.type", "producer", ConfigType.String, CompressionDoc),
        new("default.replication.factor", Invariant(DefaultReplicationFactor(brokers)), ConfigType.Int, "The replication factor of auto-created topics: the broker count, at most 3."),
        new("delete.topic.enable", "true", ConfigType.Boolean, "DeleteTopics removes a topic and its records at once."),
        new("group.initial.rebalance.delay.ms", Invariant((long)groupInitialRebalanceDelay.TotalMilliseconds), ConfigType.Int, "How long a new consumer group waits for more members before its first assignment."),
        new("log.cleanup.policy", "delete", ConfigType.List, CleanupDoc),
        new("log.retention.bytes", Invariant(RetentionBytes), ConfigType.Long, RetentionDoc),
        new("log.retention.ms", "-1", ConfigType.Long, NoTimeRetentionDoc),
        new("message.max.bytes", Invariant(MaxRequestBytes), ConfigType.Int, MaxMessageDoc),
        new("min.insync.replicas", "1", ConfigType.Int, MinIsrDoc),
        new("num.partitions", Invariant(DefaultPartitions), ConfigType.Int, "Partitions of auto-created topics, and of CreateTopics with -1."),
        new("socket.request.max.bytes", Invariant(MaxRequestBytes), ConfigType.Int, "The largest request the mock reads; a larger one closes the connection."),
    ];

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
