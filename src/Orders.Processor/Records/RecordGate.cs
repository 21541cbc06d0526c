using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// Decides whether a record that arrived is one to process now: the partition's state is held (not
/// still restoring), the record is not below the state (nor a gap that needs accounting first), its
/// partition is not held (<see cref="FetchControl"/>), it was not completed before a restart (then it is in the
/// aggregate already), and it was not dead-lettered before a restart (then the decision is honoured
/// here, not taken again).
/// </summary>
public sealed class RecordGate(PartitionTable table, RetentionGaps gaps, FetchControl fetch, ProcessorCounters counters, ILogger logger)
{
    /// <returns>The partition's state when the record is to be processed now; null when the gate dealt with it.</returns>
    public PartitionState? Admit(ConsumeResult<byte[]?, byte[]?> record)
    {
        var offset = record.Offset.Value;
        if (!table.TryGet(record.Partition.Value, out var state))
        {
            // Not ours yet: still restoring, and it seeks once restored.
            return null;
        }

        if (offset < state.FetchPosition)
        {
            // Seeks discard what was fetched before them, so offsets go back only if the client moved the
            // partition, or the partition did. The client: a reply to an offset query that a seek made
            // outdated (the leader slow, or changed) restarts the query (librdkafka's offset retry), which
            // overrides the seek and fetches from the partition's start. The partition: the topic deleted and
            // created again, or truncated. So the first few times it is sent to its position again (records
            // before that are dropped while it is held); after that the state is not about these records.
            if (fetch.IsHeld(record))
            {
                return null;
            }

            var wentBack = state.BelowPosition();
            if (wentBack == WentBack.SeekBack)
            {
                Log.SeekingBackToPosition(logger, record.Topic, record.Partition.Value, offset, state.FetchPosition);
                fetch.WaitToFetch(record.TopicPartition, TimeSpan.Zero, FetchHold.Reposition);
            }
            else if (wentBack == WentBack.Report)
            {
                Log.OffsetsWentBack(logger, record.Topic, record.Partition.Value, offset, state.FetchPosition);
            }

            return null;
        }

        if (fetch.IsHeld(record))
        {
            // Fetched before the pause took effect: read again from the state's fetch position once nothing
            // holds the partition. Before the gap check: records dropped here are not missing.
            return null;
        }

        if (offset > state.FetchPosition && !gaps.Skip(state, offset))
        {
            // Its start could not be read: the partition fetches again from the state's position after a wait.
            return null;
        }

        if (state.WasDone(offset))
        {
            // Completed before the restore, above the checkpoint's offset (records complete out of order): in the aggregate already.
            state.Taken(offset);
            return null;
        }

        if (state.DecisionsToHonour > 0 && state.TryTakeDecision(offset, out var decision))
        {
            state.Aggregate.AddDeadLetter(decision.Reason);
            state.Advance(offset);
            counters.HonouredOne();
            Log.Honoured(logger, record.Topic, record.Partition.Value, offset, decision.Reason, decision.DeadLetterOffset);
            return null;
        }

        return state;
    }
}
