using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Observability;

namespace Orders.Processor.Hosting;

/// <summary>A topic layout the processor cannot work with: said in one line, never papered over.</summary>
public sealed class TopicLayoutException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The topics a processor of <see cref="Topic"/> uses and their partition counts. The stats topic
/// must have exactly as many partitions as the input (partition p holds the checkpoints of input
/// partition p); a mismatch would misplace state, so it is an error. The dead-letter topic may
/// have any count: input partition p writes to dead-letter partition p modulo that count.
/// </summary>
public sealed record TopicLayout(string Topic, int Partitions, string DeadLetterTopic, int DeadLetterPartitions, string StatsTopic, int StatsPartitions)
{
    /// <summary>The largest record the stats topic takes (its <c>max.message.bytes</c>), or null when the cluster did not say.</summary>
    public int? StatsMaxMessageBytes { get; init; }

    /// <summary>The largest record batch the dead-letter topic takes (its <c>max.message.bytes</c>), or null when the cluster did not say.</summary>
    public int? DeadLetterMaxMessageBytes { get; init; }

    /// <summary>The largest checkpoint record the stats topic and the processor's producer both accept (<see cref="ProcessorClientConfig.ForStateTopics"/>).</summary>
    public int CheckpointRecordLimit { get; init; } = int.MaxValue;

    /// <summary>The dead-letter partition of an input partition.</summary>
    public int DeadLetterPartitionFor(int inputPartition) => inputPartition % DeadLetterPartitions;

    /// <summary>
    /// Reads the layout from the cluster, creating a missing dead-letter or stats topic with the
    /// input's partition count, replication factor and min.insync.replicas (stats compacted) through
    /// the admin API, on a real cluster and on the local stack alike (<see cref="StateTopics"/>).
    /// Waits for the input topic to exist.
    /// </summary>
    /// <exception cref="BrokerUnreachableException">No broker answered within <paramref name="brokerTimeout"/> at start.</exception>
    /// <exception cref="TopicLayoutException">The cluster stopped answering, or the layout is unusable.</exception>
    /// <param name="giveUpAfter">How long to wait for the input topic to exist; null waits until cancelled.</param>
    /// <exception cref="ProcessorGaveUpException">The input topic did not exist within <paramref name="giveUpAfter"/>.</exception>
    public static async Task<TopicLayout> ResolveAsync(
        ClientConfig clientConfig, string topic, string deadLetterTopic, string statsTopic, CreatedTopicOptions created, TimeSpan brokerTimeout, TimeSpan? giveUpAfter,
        ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        using var log = new KafkaLogRoute(logger, time);
        log.HoldNoBrokerErrors();
        using var admin = new AdminClientBuilder(clientConfig).LogTo(log).LogErrorsTo(log).BuildChecked();
        var bootstrap = clientConfig.BootstrapServers ?? "(no bootstrap.servers)";
        int inputPartitions;
        Metadata metadata;
        try
        {
            var first = await BrokerWait.FirstMetadataAsync(admin, log, clientConfig.BootstrapServers, brokerTimeout, logger, time, cancellationToken);
            (inputPartitions, metadata) = await WaitForTopicAsync(admin, topic, first, brokerTimeout, giveUpAfter, logger, time, cancellationToken);
        }
        catch (TopicLayoutException e) when (e.InnerException is KafkaException)
        {
            throw new TopicLayoutException($"no Kafka broker at {bootstrap} answered within {brokerTimeout.TotalSeconds:0} s ({((KafkaException)e.InnerException).Error.Reason})", e.InnerException);
        }

        // The same metadata that showed the input topic: one request, not one per topic.
        var statsPartitions = PartitionCount(metadata, statsTopic);
        if (statsPartitions is { } existing && existing != inputPartitions)
        {
            throw new TopicLayoutException(
                $"{statsTopic} has {existing} partitions but {topic} has {inputPartitions}: they must match " +
                $"(partition p of {statsTopic} holds the checkpoints of {topic}[p]); add partitions to the smaller one");
        }

        // The dead-letter topic may have any partition count; a missing one gets the input's.
        var deadLetterPartitions = PartitionCount(metadata, deadLetterTopic);
        var stateTopics = new StateTopics(new TopicProvisioner(admin, logger, time), created, bootstrap, logger);
        var (statsMaxMessageBytes, deadLetterMaxMessageBytes) = await stateTopics.EnsureAsync(
            metadata, topic, inputPartitions, deadLetterTopic, deadLetterPartitions is null, statsTopic, statsPartitions is null, cancellationToken);
        return new TopicLayout(topic, inputPartitions, deadLetterTopic, deadLetterPartitions ?? inputPartitions, statsTopic, inputPartitions)
        {
            StatsMaxMessageBytes = statsMaxMessageBytes,
            DeadLetterMaxMessageBytes = deadLetterMaxMessageBytes,
        };
    }

    /// <returns>The topic's partition count, and the metadata that showed it.</returns>
    /// <param name="metadata">The cluster's first answer (<see cref="BrokerWait"/>).</param>
    private static async Task<(int Count, Metadata Metadata)> WaitForTopicAsync(
        IAdminClient admin, string topic, Metadata metadata, TimeSpan brokerTimeout, TimeSpan? giveUpAfter, ILogger logger, TimeProvider time, CancellationToken cancellationToken)
    {
        var saidSo = false;
        var started = time.GetTimestamp();
        while (true)
        {
            if (PartitionCount(metadata, topic) is { } count)
            {
                return (count, metadata);
            }

            if (giveUpAfter is { } limit && time.GetElapsedTime(started) >= limit)
            {
                throw new ProcessorGaveUpException(
                    $"topic {topic} does not exist (waited {limit.TotalSeconds:0} s for it): create it, or run without --until-idle to wait until it is created");
            }

            if (!saidSo)
            {
                Log.TopicMissing(logger, topic);
                saidSo = true;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), time, cancellationToken);
            metadata = await MetadataAsync(admin, brokerTimeout);
        }
    }

    private static async Task<Metadata> MetadataAsync(IAdminClient admin, TimeSpan brokerTimeout)
    {
        try
        {
            // Metadata of all topics: asking for one by name lets a broker with auto-creation
            // (the local stack's mock) create it on the spot, with its default partition count.
            return await BlockingCall.RunAsync(() => admin.GetMetadata(brokerTimeout));
        }
        catch (KafkaException e)
        {
            throw new TopicLayoutException($"no Kafka broker answered within {brokerTimeout.TotalSeconds:0} s ({e.Error.Reason})", e);
        }
    }

    /// <returns>The topic's partition count, or null when it does not exist.</returns>
    private static int? PartitionCount(Metadata metadata, string topic)
    {
        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart || found.Partitions.Count == 0)
        {
            return null;
        }

        if (found.Error.IsError)
        {
            throw new TopicLayoutException($"cannot use {topic}: {found.Error.Reason}");
        }

        return found.Partitions.Count;
    }
}
