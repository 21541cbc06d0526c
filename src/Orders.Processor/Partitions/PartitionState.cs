using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;

namespace Orders.Processor.Partitions;

/// <summary>
/// What the processor holds for one assigned input partition, as Flink's split state holds it: the
/// aggregate, the offset it covers up to, and the decisions found on restore that it must honour
/// when their records come round again. Its checkpoint bookkeeping is <see cref="Checkpoint"/>'s.
/// Owned by the consume loop's thread; a new instance per assignment, so callbacks from an earlier
/// ownership of the same partition cannot touch it.
/// </summary>
public sealed class PartitionState
{
    private readonly Dictionary<long, DeadLetterDecision> _decided;
    private bool _wentBackReported;

    public PartitionState(
        TopicPartition partition,
        PartitionAggregate aggregate,
        long nextOffset,
        int deadLetterPartition,
        long deadLetterFloor,
        IReadOnlyDictionary<long, DeadLetterDecision> decided)
    {
        Partition = partition;
        Aggregate = aggregate;
        NextOffset = nextOffset;
        DeadLetterPartition = deadLetterPartition;
        DeadLetterFloor = deadLetterFloor;
        Checkpoint = new CheckpointTrack(nextOffset);
        _decided = new Dictionary<long, DeadLetterDecision>(decided);
    }

    public TopicPartition Partition { get; }

    public PartitionAggregate Aggregate { get; }

    /// <summary>The state covers exactly the records before this offset.</summary>
    public long NextOffset { get; private set; }

    /// <summary>The dead-letter partition this input partition's dead letters go to.</summary>
    public int DeadLetterPartition { get; }

    /// <summary>Every dead letter below this offset of <see cref="DeadLetterPartition"/> was seen at restore.</summary>
    public long DeadLetterFloor { get; }

    /// <summary>Where this state's checkpoints stand: what the newest acknowledged one covers, one in flight, when the next is due.</summary>
    public CheckpointTrack Checkpoint { get; }

    /// <summary>Dead letters written but not yet acknowledged: no checkpoint may cover their records until they are.</summary>
    public int PendingDeadLetters { get; private set; }

    /// <summary>The partition was revoked or lost: late callbacks must leave it alone.</summary>
    public bool Released { get; private set; }

    /// <summary>Changed since the newest acknowledged checkpoint.</summary>
    public bool Dirty => Version != Checkpoint.CoveredVersion;

    /// <summary>Counts every change, so that a checkpoint knows which changes it covers.</summary>
    public long Version { get; private set; }

    public int DecisionsToHonour => _decided.Count;

    /// <summary>The record at <paramref name="offset"/> was processed, dead-lettered or honoured: the state now covers it.</summary>
    public void Advance(long offset)
    {
        NextOffset = offset + 1;
        Version++;
    }

    /// <summary>A record was already dead-lettered before the restore: returns that decision, once.</summary>
    public bool TryTakeDecision(long offset, out DeadLetterDecision decision) => _decided.Remove(offset, out decision);

    public void DeadLetterSent() => PendingDeadLetters++;

    public void DeadLetterSettled() => PendingDeadLetters--;

    public void Release() => Released = true;

    /// <summary>True the first time an offset below the state's is seen: it is reported once, not once per record.</summary>
    public bool FirstTimeWentBack()
    {
        var first = !_wentBackReported;
        _wentBackReported = true;
        return first;
    }

    /// <summary>
    /// Records before <paramref name="offset"/> will never arrive (retention deleted them, or
    /// compaction or transaction markers left a gap). Decisions taken for them still count.
    /// </summary>
    /// <returns>Records jumped over that had no decision: lost to the averages.</returns>
    public long SkipTo(long offset)
    {
        if (offset <= NextOffset)
        {
            return 0;
        }

        var honoured = 0L;
        foreach (var (skipped, decision) in _decided.Where(d => d.Key < offset).ToList())
        {
            Aggregate.AddDeadLetter(decision.Reason);
            _decided.Remove(skipped);
            honoured++;
        }

        var lost = offset - NextOffset - honoured;
        NextOffset = offset;
        Version++;
        return lost;
    }

    /// <summary>
    /// A safe lower bound for where dead letters of records at or after <see cref="NextOffset"/>
    /// sit: the oldest decision still to honour, else past everything seen at restore and
    /// everything this processor had acknowledged in that dead-letter partition.
    /// </summary>
    public long DeadLetterBound(long acknowledgedFrontier)
    {
        if (_decided.Count > 0)
        {
            return _decided.Values.Min(d => d.DeadLetterOffset);
        }

        return Math.Max(DeadLetterFloor, acknowledgedFrontier);
    }

    public PartitionCheckpoint Snapshot(string group, string checkpointId, long acknowledgedFrontier, DateTimeOffset now) => new(
        group,
        Partition.Topic,
        Partition.Partition.Value,
        checkpointId,
        NextOffset,
        DeadLetterPartition,
        DeadLetterBound(acknowledgedFrontier),
        now,
        Aggregate.ToData());
}
