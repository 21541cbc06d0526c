using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;

namespace Orders.Processor.Partitions;

/// <summary>
/// What the processor holds for one assigned input partition, as Flink's split state holds it: the
/// aggregate, the offsets it covers (<see cref="Offsets"/>: everything below the lowest incomplete
/// one, and the records completed above it, since records complete out of order), and the
/// decisions found on restore that it must honour when their records come round again. Its
/// checkpoint bookkeeping is <see cref="Checkpoint"/>'s.
/// Owned by the consume loop's thread; a new instance per assignment, so callbacks from an earlier
/// ownership of the same partition cannot touch it.
/// </summary>
public sealed class PartitionState
{
    /// <summary>How often one state sends its partition back to its position when records from below it come (<see cref="BelowPosition"/>).</summary>
    public const int SeeksBackAllowed = 3;

    private readonly Dictionary<long, DeadLetterDecision> _decided;
    private readonly CancellationTokenSource _cancellation = new();
    // Times records from below the position came (outside a seek back): at most SeeksBackAllowed + 1, where it stops.
    private int _belowPosition;

    public PartitionState(
        TopicPartition partition,
        PartitionAggregate aggregate,
        long nextOffset,
        int deadLetterPartition,
        long deadLetterFloor,
        IReadOnlyDictionary<long, DeadLetterDecision> decided)
        : this(partition, aggregate, new OffsetTracker(nextOffset), deadLetterPartition, deadLetterFloor, decided)
    {
    }

    /// <param name="offsets">What the restored checkpoint covers; a decision for a record it covers is in its aggregate already.</param>
    public PartitionState(
        TopicPartition partition,
        PartitionAggregate aggregate,
        OffsetTracker offsets,
        int deadLetterPartition,
        long deadLetterFloor,
        IReadOnlyDictionary<long, DeadLetterDecision> decided)
    {
        Partition = partition;
        Aggregate = aggregate;
        Offsets = offsets;
        FetchPosition = offsets.LowestIncomplete;
        DeadLetterPartition = deadLetterPartition;
        DeadLetterFloor = deadLetterFloor;
        Checkpoint = new CheckpointTrack(offsets.LowestIncomplete);
        _decided = decided.Where(d => !offsets.IsDone(d.Key)).ToDictionary();
    }

    public TopicPartition Partition { get; }

    public PartitionAggregate Aggregate { get; }

    /// <summary>The records this state covers: those below <see cref="NextOffset"/>, and those completed above it.</summary>
    public OffsetTracker Offsets { get; }

    /// <summary>The lowest offset not done: a checkpoint's offset, where a new owner resumes (skipping what was completed above it).</summary>
    public long NextOffset => Offsets.LowestIncomplete;

    /// <summary>The offset of the next record expected from Kafka: one past the newest taken in hand.</summary>
    public long FetchPosition { get; private set; }

    /// <summary>Records taken in hand and not done yet (handled, waiting for their key or a retry).</summary>
    public int Outstanding { get; private set; }

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

    /// <summary>Given to its handler calls: fires when the partition is released (its next owner handles those records again).</summary>
    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>Changed since the newest acknowledged checkpoint.</summary>
    public bool Dirty => Version != Checkpoint.CoveredVersion;

    /// <summary>Counts every change, so that a checkpoint knows which changes it covers.</summary>
    public long Version { get; private set; }

    public int DecisionsToHonour => _decided.Count;

    /// <summary>The record at <paramref name="offset"/> was taken in hand: the next one is expected after it.</summary>
    public void Taken(long offset) => FetchPosition = offset + 1;

    /// <summary>A record taken in hand will complete later (its handler is slow, it waits for its key or a retry).</summary>
    public void Started() => Outstanding++;

    /// <summary>The record at <paramref name="offset"/> was processed, dead-lettered or honoured: the state now covers it.</summary>
    /// <param name="started">It was counted by <see cref="Started"/>.</param>
    public void Complete(long offset, bool started = false)
    {
        if (started)
        {
            Outstanding--;
        }

        if (Offsets.Complete(offset))
        {
            Version++;
        }
    }

    /// <summary>Taken in hand and done at once: <see cref="Taken"/> and <see cref="Complete"/>.</summary>
    public void Advance(long offset)
    {
        Taken(offset);
        Complete(offset);
    }

    /// <summary>The record at <paramref name="offset"/> was completed before the restore (the checkpoint says so).</summary>
    public bool WasDone(long offset) => Offsets.IsDone(offset);

    /// <summary>A record was already dead-lettered before the restore: returns that decision, once.</summary>
    public bool TryTakeDecision(long offset, out DeadLetterDecision decision) => _decided.Remove(offset, out decision);

    public void DeadLetterSent() => PendingDeadLetters++;

    public void DeadLetterSettled() => PendingDeadLetters--;

    public void Release()
    {
        Released = true;
        _cancellation.Cancel();
    }

    /// <summary>
    /// What a record from below the state's position calls for: the first <see cref="SeeksBackAllowed"/> times it is
    /// taken for the client's doing and the partition sent to its position again; the next time, for the partition's
    /// (reported once); after that, nothing.
    /// </summary>
    public WentBack BelowPosition()
    {
        if (_belowPosition > SeeksBackAllowed)
        {
            return WentBack.Ignore;
        }

        _belowPosition++;
        return _belowPosition <= SeeksBackAllowed ? WentBack.SeekBack : WentBack.Report;
    }

    /// <summary>
    /// The records from <see cref="FetchPosition"/> to before <paramref name="offset"/> will never
    /// arrive (retention deleted them, or compaction or transaction markers left a gap). Decisions
    /// taken for them still count; those completed before a restore are done already.
    /// </summary>
    /// <returns>Records jumped over that were neither done nor decided (lost to the averages), and the decisions honoured among them.</returns>
    public (long Lost, long Honoured) SkipTo(long offset)
    {
        var from = FetchPosition;
        if (offset <= from)
        {
            return (0, 0);
        }

        var honoured = 0L;
        foreach (var (skipped, decision) in _decided.Where(d => d.Key >= from && d.Key < offset).ToList())
        {
            Aggregate.AddDeadLetter(decision.Reason);
            _decided.Remove(skipped);
            honoured++;
        }

        var lost = Offsets.CompleteRange(from, offset) - honoured;
        FetchPosition = offset;
        Version++;
        return (lost, honoured);
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
        Aggregate.ToData())
    {
        CompletedRanges = Offsets.ToRanges(),
    };
}

/// <summary>What a record from below a partition state's position calls for (<see cref="PartitionState.BelowPosition"/>).</summary>
public enum WentBack
{
    /// <summary>Seek the partition to its position again.</summary>
    SeekBack,

    /// <summary>Report once that the partition itself went back (the topic recreated or truncated).</summary>
    Report,

    /// <summary>Reported already: drop the record.</summary>
    Ignore,
}
