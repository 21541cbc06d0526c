using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Processor.Observability;

namespace Orders.Processor.Hosting;

/// <summary>
/// The topics that hold what the processor must never lose: dead letters and checkpoints. Missing
/// ones are created with the input's partition count and, so that they are as safe as the input,
/// its replication factor and <c>min.insync.replicas</c> (or <c>Processor:CreatedTopics</c>); the
/// checkpoints' topic compacted, so that the newest checkpoint of every partition stays however
/// long the partition is quiet. An existing checkpoints' topic whose policy can delete a partition's
/// newest checkpoint (time or size retention without compaction) is refused: a quiet partition would
/// lose its only checkpoint, and its next owner would start its figures over.
/// </summary>
internal sealed class StateTopics(TopicProvisioner provisioner, CreatedTopicOptions overrides, string bootstrap, ILogger logger)
{
    /// <summary>Compaction tuning: segments roll every ten minutes so that compaction keeps the partitions short.</summary>
    private static readonly Dictionary<string, string> StatsTuning = new()
    {
        ["segment.ms"] = "600000",
        ["min.cleanable.dirty.ratio"] = "0.1",
    };

    /// <summary>Creates the missing state topics and checks the checkpoints' topic.</summary>
    /// <returns>
    /// The largest record batch the checkpoints' topic and the dead-letter topic take (their <c>max.message.bytes</c>),
    /// each null if the cluster would not say.
    /// </returns>
    /// <exception cref="TopicLayoutException">A topic cannot be created as required, or the checkpoints' topic can lose checkpoints.</exception>
    public async Task<(int? Stats, int? DeadLetters)> EnsureAsync(
        Metadata metadata, string input, int partitions, string deadLetterTopic, bool deadLettersMissing, string statsTopic, bool statsMissing,
        CancellationToken cancellationToken)
    {
        if (deadLettersMissing || statsMissing)
        {
            var (replicas, minInsync) = await SafetyAsync(metadata, input, cancellationToken);
            var safety = minInsync is { } isr ? new Dictionary<string, string> { ["min.insync.replicas"] = isr } : [];
            List<TopicRequirement> missing = [];
            if (deadLettersMissing)
            {
                missing.Add(new TopicRequirement(deadLetterTopic, partitions) { ReplicationFactor = replicas, Configs = safety });
            }

            if (statsMissing)
            {
                missing.Add(new TopicRequirement(statsTopic, partitions)
                {
                    ReplicationFactor = replicas,
                    Configs = new Dictionary<string, string>(safety) { ["cleanup.policy"] = "compact" },
                    OptionalConfigs = StatsTuning,
                });
            }

            try
            {
                await provisioner.EnsureAsync(missing, cancellationToken);
            }
            catch (TopicProvisioningException e)
            {
                throw new TopicLayoutException($"{e.Message}; create {e.Topic} yourself: {CreateCommand(e.Topic, partitions, replicas, e.Topic == statsTopic, safety)}", e);
            }
        }

        int? deadLetterLimit;
        try
        {
            deadLetterLimit = TopicProvisioner.MaxMessageBytes(await provisioner.ConfigsAsync(deadLetterTopic, cancellationToken));
        }
        catch (KafkaException e)
        {
            Log.DeadLetterConfigsUnknown(logger, deadLetterTopic, e.Error.Reason);
            deadLetterLimit = null;
        }

        IReadOnlyDictionary<string, string> configs;
        try
        {
            configs = await provisioner.ConfigsAsync(statsTopic, cancellationToken);
        }
        catch (KafkaException e)
        {
            // Without DescribeConfigs (an ACL) nothing can be checked: say so, and go on with what the processor created or found.
            Log.StatsConfigsUnknown(logger, statsTopic, e.Error.Reason);
            return (null, deadLetterLimit);
        }

        if (CanDeleteNewest(configs) is { } why)
        {
            throw new TopicLayoutException(
                $"{statsTopic} can delete checkpoints ({why}): a partition quiet for that long would lose its only checkpoint and start its figures over; " +
                $"make it compacted: kafka-configs.sh --bootstrap-server {bootstrap} --alter --entity-type topics --entity-name {statsTopic} --add-config cleanup.policy=compact");
        }

        return (TopicProvisioner.MaxMessageBytes(configs), deadLetterLimit);
    }

    /// <summary>Why a topic with these configs can delete a key's newest record, or null when it cannot.</summary>
    public static string? CanDeleteNewest(IReadOnlyDictionary<string, string> configs)
    {
        var policy = configs.GetValueOrDefault("cleanup.policy", "delete");
        var items = policy.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (!items.Contains("delete", StringComparer.OrdinalIgnoreCase))
        {
            return null;
        }

        var retention = new List<string>();
        foreach (var name in (string[])["retention.ms", "retention.bytes"])
        {
            if (configs.TryGetValue(name, out var value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var limit) && limit >= 0)
            {
                retention.Add($"{name}={value}");
            }
        }

        return retention.Count == 0 ? null : $"cleanup.policy={policy} with {string.Join(" and ", retention)}";
    }

    /// <returns>The replication factor and min.insync.replicas the state topics get: the overrides, else the input topic's.</returns>
    /// <exception cref="TopicLayoutException">A configured min.insync.replicas above the replicas the topics get: no write could ever succeed.</exception>
    private async Task<(short Replicas, string? MinInsync)> SafetyAsync(Metadata metadata, string input, CancellationToken cancellationToken)
    {
        var replicas = overrides.ReplicationFactor
            ?? (short)(metadata.Topics.Single(t => t.Topic == input).Partitions.Max(p => p.Replicas.Length) is var count and > 0 ? count : -1);
        if (overrides.MinInsyncReplicas is { } configured)
        {
            // Kafka creates such a topic (KAFKA-4680), and then every write with acks=all fails: the processor's would, after minutes.
            return replicas > 0 && configured > replicas
                ? throw new TopicLayoutException(
                    $"Processor:CreatedTopics:MinInsyncReplicas is {configured}, but the topics it creates get {replicas} replica(s) (the input's, {input}): no write could succeed; " +
                    "lower it, or set Processor:CreatedTopics:ReplicationFactor")
                : (replicas, configured.ToString(CultureInfo.InvariantCulture));
        }

        string? copied;
        try
        {
            copied = (await provisioner.ConfigsAsync(input, cancellationToken)).GetValueOrDefault("min.insync.replicas");
        }
        catch (KafkaException e)
        {
            Log.InputConfigsUnknown(logger, input, e.Error.Reason);
            return (replicas, null);
        }

        if (replicas > 0 && int.TryParse(copied, NumberStyles.None, CultureInfo.InvariantCulture, out var isr) && isr > replicas)
        {
            // The input's, with fewer replicas set for these topics: as many as they have, or no write would ever succeed.
            Log.MinInsyncCapped(logger, input, isr, replicas);
            return (replicas, replicas.ToString(CultureInfo.InvariantCulture));
        }

        return (replicas, copied);
    }

    private string CreateCommand(string topic, int partitions, short replicas, bool compacted, Dictionary<string, string> safety)
    {
        var configs = safety.Select(c => $" --config {c.Key}={c.Value}").Concat(compacted ? [" --config cleanup.policy=compact"] : []);
        var replication = replicas > 0 ? string.Create(CultureInfo.InvariantCulture, $" --replication-factor {replicas}") : "";
        return $"kafka-topics.sh --bootstrap-server {bootstrap} --create --topic {topic} --partitions {partitions}{replication}{string.Concat(configs)}";
    }
}

/// <summary>How the processor creates its dead-letter and checkpoint topics (<c>Processor:CreatedTopics</c>); null: as the input topic.</summary>
public sealed class CreatedTopicOptions
{
    /// <summary>Replicas of each partition; null copies the input topic's.</summary>
    public short? ReplicationFactor { get; set; }

    /// <summary><c>min.insync.replicas</c>; null copies the input topic's.</summary>
    public int? MinInsyncReplicas { get; set; }
}
