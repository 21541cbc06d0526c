using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Processor.Hosting;

/// <summary>The processor's client settings on top of what configuration gives (any librdkafka property passes through).</summary>
public static class ProcessorClientConfig
{
    /// <summary>
    /// What the client makes of each record besides its partition, offset, key and value
    /// (<c>dotnet.consumer.consume.result.fields</c>): the headers (trace context, and copied onto a
    /// dead letter) and the timestamp (event time, and a dead letter's header). Not the topic's name:
    /// the processor reads one topic, and the client would otherwise read and allocate that name
    /// again for every record (measured on the local stack, a raw consumer spends ~10% less CPU per
    /// order without it). The processor's consumer puts its topic on each record itself.
    /// </summary>
    public const string RecordFields = "headers,timestamp";

    public static ConsumerConfig Consumer(ConsumerConfig configured, string groupId)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(configured))
        {
            GroupId = groupId,
            // Offsets are stored only when a checkpoint covering them is acknowledged.
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
            // Where a partition resumes is the checkpoint's decision (it seeks there). Past records that
            // retention deleted, the reset goes to the start, and the processor counts the gap as lost.
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };

        // The group protocol is chosen at start, from what the broker offers (GroupProtocolChoice, ForProtocol).

        // How long the broker may hold a fetch that finds no data. A real broker answers as soon as
        // data arrives; the local stack's mock always holds an empty fetch for all of it, so there it
        // sets the end-to-end latency (orders bench at 20,000/s: p50 57 ms and p99 107 ms at 100,
        // 16 ms and 29 ms at 20) and how soon a partition resumed after a retry backoff is read again
        // (400 orders with 245 retries: 28 s at librdkafka's 500, 6 s at 50). On a real cluster the
        // cost is an idle consumer's empty fetch every 20 ms per broker.
        config.SetDefault("fetch.wait.max.ms", "20");

        // Catch-up speed. librdkafka stops fetching a partition while the consumer's queue holds more
        // than queued.min.messages (100,000) and then waits fetch.queue.backoff.ms (1,000 ms by default)
        // before it looks again. With the high-level consumer every partition's fetch queue forwards to
        // the one consumer queue, so the threshold is reached by all partitions together: draining a
        // 400,000-order, 16-partition backlog on the local stack (2 cores, 2026-12-02), 16 fetches of
        // 1 MiB (~8,000 orders each) fill the queue past 100,000, the consumer empties it in ~0.1 s and
        // then idles until the backoff ends: 120-300k orders/s with a raw consumer, 0.65-1.2M at 10 ms
        // (and the same 0.7-1.0M at queued.min.messages=1,000,000, which buys it with 10 times the
        // prefetched records). A real cluster stalls the same way: the backoff is the client's.
        // Re-checking every 10 ms costs nothing measurable when the consumer is the slower side.
        // Memory: the queue stays bounded by queued.min.messages (100,000 records, ~12 MB of orders
        // here) and queued.max.messages.kbytes (64 MiB), plus up to one fetch.max.bytes (50 MiB) per
        // broker in flight; on a small machine lower the last two (docs/BENCHMARKS.md).
        config.SetDefault("fetch.queue.backoff.ms", "10");

        // Each partition's end offset, for lag (ConsumerStatistics); 0 turns the statistics off.
        config.SetDefault("statistics.interval.ms", "1000");
        return config;
    }

    /// <summary>The consumer's settings for the group protocol chosen at start.</summary>
    public static ConsumerConfig ForProtocol(ConsumerConfig configured, GroupProtocol protocol)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(configured));
        if (protocol == GroupProtocol.Consumer)
        {
            // KIP-848 (Kafka 4.x): the broker assigns incrementally, and a restarted member gets its
            // partitions as soon as the broker ends its predecessor's session (group.consumer.session.timeout.ms,
            // 45 s by default on a real broker, 3 s on the local stack).
            config.Set("group.protocol", "consumer");
            return config;
        }

        // The classic protocol, incrementally, so that revoking and assigning work as under KIP-848.
        // librdkafka's 45 s session timeout would make a crashed member hold its partitions for 45 s;
        // 10 s is above Kafka's group.min.session.timeout.ms (6 s). The mock makes newcomers wait
        // session.timeout.ms - 1 s.
        config.Set("group.protocol", "classic");
        config.SetDefault("partition.assignment.strategy", "cooperative-sticky");
        config.SetDefault("session.timeout.ms", "10000");
        return config;
    }

    /// <summary>
    /// The settings of the producer that writes checkpoints and dead letters, for a stats topic that takes records
    /// (record batches) of at most <paramref name="statsMaxMessageBytes"/> and a dead-letter topic that takes at most
    /// <paramref name="deadLetterMaxMessageBytes"/>: a broker checks a whole batch against its topic's
    /// max.message.bytes and refuses every record of a batch above it (librdkafka does not split it), so batches
    /// stay within the smaller of the two. Two large dead letters that each fit would otherwise both be refused,
    /// and written again truncated.
    /// </summary>
    /// <returns>The settings, and the largest checkpoint record both the stats topic and the producer take.</returns>
    public static (ProducerConfig Config, int RecordLimit) ForStateTopics(ProducerConfig configured, int? statsMaxMessageBytes, int? deadLetterMaxMessageBytes)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(configured));
        var statsLimit = statsMaxMessageBytes ?? int.MaxValue;
        var batchLimit = Math.Min(statsLimit, deadLetterMaxMessageBytes ?? int.MaxValue);
        if (batchLimit < LibrdkafkaDefaults.BatchSize)
        {
            config.SetDefault("batch.size", batchLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var producerLimit = Math.Min(config.MessageMaxBytes ?? LibrdkafkaDefaults.MessageMaxBytes, config.BatchSize ?? LibrdkafkaDefaults.BatchSize);
        return (config, Math.Min(statsLimit, producerLimit));
    }

    public static ProducerConfig Producer(ProducerConfig configured)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(configured))
        {
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        config.SetDefault("linger.ms", "5");
        config.SetDefault("message.timeout.ms", "30000");
        return config;
    }
}
