using System.Collections.Frozen;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Orders.Kafka;

/// <summary>A client setting librdkafka rejects (unknown property, bad value): bad input, not a crash.</summary>
public sealed class KafkaConfigurationException(string message, Exception? inner) : Exception(message, inner);

public static class KafkaClientBuilding
{
    /// <summary>Sets a property unless configuration already did; reads it as text, so a bad value is left for Build to report.</summary>
    public static void SetDefault(this ClientConfig config, string key, string value)
    {
        if (config.Get(key) is null)
        {
            config.Set(key, value);
        }
    }

    public static IProducer<TKey, TValue> BuildChecked<TKey, TValue>(this ProducerBuilder<TKey, TValue> builder) =>
        Checked(builder.Build);

    public static IConsumer<TKey, TValue> BuildChecked<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder) =>
        Checked(builder.Build);

    public static IAdminClient BuildChecked(this AdminClientBuilder builder) =>
        Checked(builder.Build);

    private static T Checked<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // How Confluent.Kafka reports what librdkafka rejects: an invalid value (ArgumentException)
            // or an unknown property (InvalidOperationException).
            throw new KafkaConfigurationException($"invalid Kafka configuration: {e.Message}", e);
        }
    }
}

/// <summary>Binds the <c>Kafka</c> configuration section into client configs, so any librdkafka property works.</summary>
public static class KafkaSettings
{
    public const string Section = "Kafka";

    /// <summary>
    /// Copies the settings of <paramref name="section"/> into <paramref name="config"/>: librdkafka's
    /// own names (<c>linger.ms</c>) pass through; .NET names (<c>BootstrapServers</c>) map to them.
    /// The section is shared by every client, so a property of the other kind of client is left out
    /// of a producer's or a consumer's settings (<see cref="PropertyScopes"/>): librdkafka would ignore
    /// it there all the same, with a CONFWARN line in the log at every start.
    /// </summary>
    public static T Bind<T>(IConfiguration section, T config)
        where T : ClientConfig
    {
        foreach (var setting in section.AsEnumerable(makePathsRelative: true))
        {
            if (setting.Value is null)
            {
                continue;
            }

            var name = LibrdkafkaName(setting.Key);
            if (PropertyScopes.AppliesTo(name, config))
            {
                config.Set(name, setting.Value);
            }
        }

        return config;
    }

    /// <summary>librdkafka's name for a setting: a dotted name as it is, a .NET name (<c>BootstrapServers</c>) dotted (<c>bootstrap.servers</c>).</summary>
    public static string LibrdkafkaName(string key) => key.Contains('.', StringComparison.Ordinal) ? key : ToLibrdkafkaName(key);

    private static string ToLibrdkafkaName(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "." : "") + char.ToLowerInvariant(c) : c.ToString()));
}

/// <summary>
/// Which kind of client a librdkafka property is for: the C/P column of librdkafka's CONFIGURATION.md
/// (global and topic properties). librdkafka ignores a consumer property on a producer, and the other
/// way round, and logs a CONFWARN for it.
/// </summary>
public static class PropertyScopes
{
    /// <summary>Consumer properties (C), aliases included.</summary>
    public static readonly FrozenSet<string> ConsumerOnly = FrozenSet.Create(
        StringComparer.Ordinal,
        "auto.commit.enable", "auto.commit.interval.ms", "auto.offset.reset", "check.crcs", "consume.callback.max.messages",
        "coordinator.query.interval.ms", "enable.auto.commit", "enable.auto.offset.store", "enable.partition.eof", "fetch.error.backoff.ms",
        "fetch.max.bytes", "fetch.message.max.bytes", "fetch.min.bytes", "fetch.queue.backoff.ms", "fetch.wait.max.ms", "group.id",
        "group.instance.id", "group.protocol", "group.protocol.type", "group.remote.assignor", "heartbeat.interval.ms", "isolation.level",
        "max.partition.fetch.bytes", "max.poll.interval.ms", "max.poll.records", "offset.store.method", "offset.store.path",
        "offset.store.sync.interval.ms", "partition.assignment.strategy", "queued.max.messages.kbytes", "queued.min.messages",
        "session.timeout.ms", "share.acknowledgement.mode");

    /// <summary>Producer properties (P), aliases included.</summary>
    public static readonly FrozenSet<string> ProducerOnly = FrozenSet.Create(
        StringComparer.Ordinal,
        "acks", "batch.num.messages", "batch.size", "compression.codec", "compression.level", "compression.type", "delivery.report.only.error",
        "delivery.timeout.ms", "enable.gapless.guarantee", "enable.idempotence", "linger.ms", "message.send.max.retries", "message.timeout.ms",
        "partitioner", "produce.offset.report", "queue.buffering.backpressure.threshold", "queue.buffering.max.kbytes",
        "queue.buffering.max.messages", "queue.buffering.max.ms", "queuing.strategy", "request.required.acks", "request.timeout.ms", "retries",
        "sticky.partitioning.linger.ms", "transaction.timeout.ms", "transactional.id");

    /// <summary>
    /// Whether a property belongs in this kind of client's settings. An admin client is a producer to
    /// librdkafka; Confluent.Kafka's own <c>dotnet.producer.*</c> and <c>dotnet.consumer.*</c> go only to
    /// their kind. A plain <see cref="ClientConfig"/> takes everything.
    /// </summary>
    public static bool AppliesTo(string name, ClientConfig config) => config switch
    {
        ProducerConfig => !ConsumerOnly.Contains(name) && !name.StartsWith("dotnet.consumer.", StringComparison.Ordinal),
        ConsumerConfig => !ProducerOnly.Contains(name) && !name.StartsWith("dotnet.producer.", StringComparison.Ordinal),
        AdminClientConfig => !ConsumerOnly.Contains(name) && !name.StartsWith("dotnet.", StringComparison.Ordinal),
        _ => true,
    };
}
