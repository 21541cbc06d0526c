using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// Restores assigned partitions: each one's newest checkpoint, the dead letters written for it
/// since (decisions to honour, not take again), and the records retention deleted while no one
/// held it (counted as lost). A partition that cannot be restored yet (the registry or a broker is
/// away) stays in the table as restoring, paused, and is tried again after a backoff. A restore
/// waiting for a broker gives up as soon as the processor is stopping (<paramref name="stopping"/>):
/// it runs inside the assignment callback, and the stop would otherwise wait for it first.
/// </summary>
public sealed class PartitionRestorer(
    IPartitionStateSource source,
    PartitionTable table,
    CheckpointSchedule schedule,
    RetentionGaps gaps,
    int windowMinutes,
    TimeSpan timeout,
    TimeSpan retryDelay,
    ProcessorCounters counters,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger,
    CancellationToken stopping = default)
{
    /// <returns>
    /// The partitions restored (their states now in the table); the others wait for their retry. A read of
    /// several that a broker refuses is tried again for each alone: one partition whose checkpoints cannot
    /// be read (an offline partition) must not keep the others from their records.
    /// </returns>
    public IReadOnlyList<TopicPartition> Restore(IReadOnlyList<TopicPartition> partitions)
    {
        if (partitions.Count == 0)
        {
            return [];
        }

        var (outcome, restored) = TryRestore(partitions, retryOnFailure: partitions.Count == 1);
        if (outcome != Outcome.RefusedTogether)
        {
            return restored;
        }

        List<TopicPartition> alone = [];
        foreach (var partition in partitions)
        {
            var (each, done) = TryRestore([partition], retryOnFailure: true);
            alone.AddRange(done);
            if (each == Outcome.Stop)
            {
                break;
            }
        }

        return alone;
    }

    private (Outcome Outcome, IReadOnlyList<TopicPartition> Restored) TryRestore(IReadOnlyList<TopicPartition> partitions, bool retryOnFailure)
    {
        var ids = partitions.Select(p => p.Partition.Value).ToList();
        var span = ProcessorTracing.StartOwn($"restore {partitions[0].Topic}", System.Diagnostics.ActivityKind.Internal, partitions[0].Topic, "restore");
        span?.SetTag("orders.partitions", string.Join(",", ids));
        IReadOnlyDictionary<int, StoredPartition> stored;
        try
        {
            stored = source.Read(ids, timeout, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Nothing was taken from them yet: the close leaves them as they are, unrestored, for their next owner.
            Log.RestoreAbandoned(logger, partitions[0].Topic, string.Join(",", ids));
            ProcessorTracing.Finish(span, "stopping");
            return (Outcome.Stop, []);
        }
        catch (Exception e) when (e is RegistryUnavailableException or KafkaException or TimeoutException or SchemaRegistryException or HttpRequestException)
        {
            ProcessorTracing.Finish(span, e.Message);
            if (fatal.StopsOnRejectedCredentials(e))
            {
                return (Outcome.Stop, []);
            }

            // Only a broker's answer about some partition is worth a read of each alone: it comes at once. A read
            // that timed out, or a registry away, would take as long again for each partition, the loop waiting.
            if (!retryOnFailure && e is KafkaException { Error.Code: not ErrorCode.Local_TimedOut })
            {
                Log.RestoreFailedTogether(logger, partitions[0].Topic, string.Join(",", ids), e.Message);
                return (Outcome.RefusedTogether, []);
            }

            var retryAt = time.After(retryDelay);
            foreach (var p in ids)
            {
                table.Restoring(p, retryAt, e.Message);
            }

            Log.RestoreFailed(logger, partitions[0].Topic, string.Join(",", ids), (long)retryDelay.TotalMilliseconds, e.Message);
            return (Outcome.Retrying, []);
        }

        foreach (var partition in partitions)
        {
            Add(partition, stored[partition.Partition.Value]);
        }

        span?.SetTag("orders.checkpoints.restored", stored.Values.Count(s => s.Checkpoint is not null));
        ProcessorTracing.Finish(span);
        return (Outcome.Restored, partitions);
    }

    private void Add(TopicPartition partition, StoredPartition stored)
    {
        var checkpoint = stored.Checkpoint;
        var aggregate = checkpoint is null ? new PartitionAggregate(windowMinutes) : PartitionAggregate.FromData(checkpoint.Data, windowMinutes);
        var offsets = new OffsetTracker(checkpoint?.NextOffset ?? 0, checkpoint?.CompletedRanges);
        var state = new PartitionState(partition, aggregate, offsets, stored.DeadLetterPartition, stored.DeadLetters.End, stored.DeadLetters.Decisions);

        // Records deleted by retention while no one held the partition are a loss to count now.
        if (stored.Watermarks.Low.Value > state.FetchPosition)
        {
            gaps.Skip(state, stored.Watermarks.Low.Value, stored.Watermarks);
        }

        table.Add(state);
        schedule.Started(state);
        if (checkpoint is not null)
        {
            // Its chunks go once this state's first checkpoint is on record.
            state.Checkpoint.Supersede(checkpoint.ChunkKeys);
            counters.CheckpointRestored();
        }

        Log.Restored(
            logger, partition.Topic, partition.Partition.Value, state.NextOffset, aggregate.Count, stored.DeadLetters.Decisions.Count,
            stored.DeadLetters.Duplicates, checkpoint?.CheckpointId ?? "none");
    }

    private enum Outcome
    {
        Restored,

        /// <summary>A broker refused the read of several: each is to be tried alone, at once.</summary>
        RefusedTogether,

        /// <summary>Failed; the partitions wait for their retry.</summary>
        Retrying,

        /// <summary>The processor is stopping, or the registry refuses the credentials: nothing more is tried.</summary>
        Stop,
    }
}
