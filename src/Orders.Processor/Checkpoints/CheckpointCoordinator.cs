using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Processor.DeadLetters;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// When and how the held partitions are checkpointed: on the schedule (holding a partition whose
/// dead letters keep it from being checkpointed), and at once, bounded, when partitions are revoked
/// or the processor closes. Once a checkpoint is acknowledged the group offset of its partition is
/// stored, for lag tools (librdkafka commits stored offsets itself).
/// </summary>
public sealed class CheckpointCoordinator(
    CheckpointWriter writer,
    CheckpointSchedule schedule,
    DeadLetterWriter deadLetters,
    PartitionTable table,
    FetchControl fetch,
    IConsumerPort consumer,
    IProducerPort producer,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger)
{
    public int InFlightCount => writer.InFlightCount;

    /// <summary>Starts registering the checkpoint schema, so that the first checkpoint need not wait for it.</summary>
    public void Prepare() => writer.Prepare();

    /// <summary>Settles acknowledged checkpoints: their partitions' offsets are stored.</summary>
    public void Pump()
    {
        // The writer returns only those of partitions still held by the ownership that wrote them.
        foreach (var done in writer.Pump())
        {
            StoreOffset(done);
        }
    }

    /// <summary>Writes the checkpoints that are due; holds a partition whose dead letters keep it from one for too long.</summary>
    public void CheckpointDue()
    {
        foreach (var state in table.Owned)
        {
            switch (schedule.Next(state))
            {
                case CheckpointStep.Write:
                    if (writer.TryBegin(state, deadLetters.AcknowledgedFrontier(state.DeadLetterPartition)))
                    {
                        schedule.Written(state);
                        fetch.Release(state.Partition, FetchHold.Checkpoint);
                    }

                    break;
                case CheckpointStep.Hold:
                    fetch.Hold(state.Partition, FetchHold.Checkpoint);
                    break;
            }
        }
    }

    /// <summary>
    /// Checkpoints the partitions now (those changed since their last checkpoint), first letting
    /// their dead letters be acknowledged, and waits for the checkpoints until <paramref name="deadline"/>
    /// (the revoke's or the close's, <see cref="Assignments.SettleAndCheckpoint"/>); then stores the offsets they cover. Stored, not committed: librdkafka commits a
    /// removed partition's stored offset itself (enable.auto.commit), asynchronously, while a
    /// synchronous commit inside a rebalance callback can wait on a group that is itself
    /// rebalancing or closing.
    /// </summary>
    public void CheckpointAndStore(IReadOnlyCollection<PartitionState> states, long deadline)
    {

        // Until every state is covered by an acknowledged checkpoint: dead letters are acknowledged
        // first, a checkpoint already in flight (started before the changes since) is awaited, then
        // the last one is written.
        // A state whose dead letters can never be written cannot be covered; nor can any once checkpoints cannot be written.
        bool Coverable(PartitionState s) => s.Dirty && (s.PendingDeadLetters == 0 || !fatal.Has<DeadLetterWriteException>());
        while (states.Any(Coverable) && !time.HasCome(deadline) && !fatal.Has<CheckpointWriteException>())
        {
            foreach (var state in states.Where(s => s.Dirty && !s.Checkpoint.InFlight && s.PendingDeadLetters == 0))
            {
                writer.TryBegin(state, deadLetters.AcknowledgedFrontier(state.DeadLetterPartition));
            }

            producer.Flush(TimeSpan.FromMilliseconds(20));
            deadLetters.Pump();

            // Every checkpoint acknowledged meanwhile stores its offset, of partitions kept too.
            Pump();
        }

        foreach (var state in states.Where(s => s.Dirty))
        {
            Log.NotCheckpointed(logger, state.Partition.Topic, state.Partition.Partition.Value, state.PendingDeadLetters);
        }

        foreach (var state in states.Where(s => s.Checkpoint.CoveredOffset > 0))
        {
            StoreOffset(new TopicPartitionOffset(state.Partition, state.Checkpoint.CoveredOffset));
        }
    }

    private void StoreOffset(TopicPartitionOffset offset)
    {
        try
        {
            consumer.StoreOffset(offset);
        }
        catch (KafkaException e)
        {
            // The partition went away meanwhile: its next owner restores from the checkpoint anyway.
            Log.StoreFailed(logger, offset.Topic, offset.Partition.Value, e.Error.Reason);
        }
    }
}
