namespace Orders.Kafka;

/// <summary>librdkafka's own defaults that our clients' settings are decided against.</summary>
public static class LibrdkafkaDefaults
{
    /// <summary><c>message.max.bytes</c>: the largest record (and request) the client makes.</summary>
    public const int MessageMaxBytes = 1_000_000;

    /// <summary><c>batch.size</c>: the largest record batch the client makes.</summary>
    public const int BatchSize = 1_000_000;

    /// <summary><c>max.poll.interval.ms</c>: how long a consumer may go without polling before the group gives its partitions away.</summary>
    public const int MaxPollIntervalMs = 300_000;
}
