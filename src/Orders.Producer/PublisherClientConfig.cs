using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Producer;

/// <summary>
/// The publisher's producer settings on top of what configuration gives (any librdkafka property
/// passes through and wins over these defaults, except idempotence, which the delivery guarantee needs,
/// and the delivery reports the publisher counts by).
/// <c>orders bench</c> gives its raw producer loop the same settings, so the ratio measures our code.
/// </summary>
public static class PublisherClientConfig
{
    public static ProducerConfig Producer(ProducerConfig configured)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(configured)) { EnableIdempotence = true, Acks = Acks.All };

        // Batching. Measured on the local stack (2 cores, 2026-12-02, raw loop of 1,000,000 79-byte
        // orders into 16 partitions, 6 alternating runs each): linger 5 ms median 405k/s at 2.8 µs CPU
        // per message, 20 ms 413k/s at 2.6 µs, 50 ms 448k/s at 2.5 µs: within the run-to-run noise
        // (260-530k/s for any of them), while every millisecond of linger is a millisecond of latency
        // for an order produced at a steady rate (a partition at 1,250 orders/s fills no batch sooner).
        // So 5 ms. A busy producer fills batches well before it: batch.num.messages (10,000) and
        // batch.size (1 MB) stay librdkafka's.
        config.SetDefault("linger.ms", "5");

        // The queue: librdkafka's 100,000 messages (or 1 GiB) is ~0.2 s of production at full speed, far
        // more than the ~10 ms (linger plus a round trip) an order spends queued while the broker keeps
        // up. When it does not, the publisher waits for deliveries (Local_QueueFull) instead of growing:
        // memory stays at 100,000 x ~250 B (payload plus librdkafka's message) = ~25 MB.
        // A larger queue (1,000,000) measured no faster. On a small machine lower it (docs/BENCHMARKS.md).
        config.SetDefault("queue.buffering.max.messages", "100000");

        // The handler reads only the status and the key (SentOrder: validity and price ride with it);
        // the client then keeps no reference to the Order until its delivery, and timestamps and
        // headers need not cross back from librdkafka. Not a default: without the key the valid
        // orders' figures came out empty, and without reports nothing is counted at all.
        config.Set("dotnet.producer.enable.delivery.reports", "true");
        config.Set("dotnet.producer.delivery.report.fields", "key,status");

        // librdkafka's producer asks a broker to create a topic it does not know (its consumer does not):
        // a typo in --topic would leave a junk topic, and a producer that comes before the topic's
        // creator (compose's kafka-init, orders stack) would create it with the broker's defaults
        // (1 partition on Apache Kafka, 4 on the local stack), which the processor then refuses.
        // The publisher waits for the topic instead.
        config.SetDefault("allow.auto.create.topics", "false");
        return config;
    }

    /// <summary>
    /// The batch.size a topic that takes record batches of at most <paramref name="maxMessageBytes"/> needs, or null
    /// when the configured one fits (or was set: it is the user's). A broker checks a whole batch against the topic's
    /// max.message.bytes and refuses every record of a batch above it; librdkafka does not split the batch, so each
    /// of its orders fails. librdkafka's batch.size (1,000,000) fits Kafka's default (1,048,588), not a topic set lower.
    /// </summary>
    public static int? BatchSizeFor(ProducerConfig config, int? maxMessageBytes) =>
        maxMessageBytes is { } limit && config.BatchSize is null && limit < LibrdkafkaDefaults.BatchSize ? Math.Max(limit, MinimumBatchSize) : null;

    // librdkafka's least batch.size; a topic that takes less cannot take an order's batch of one anyway.
    private const int MinimumBatchSize = 1;
}
