using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// The partitions this processor holds: those with their state restored, and those still restoring
/// (with when to try again). Whether each may fetch is <see cref="FetchControl"/>'s. The loop's thread only.
/// </summary>
public sealed class PartitionTable
{
    private readonly Dictionary<int, PartitionState> _owned = [];
    private readonly Dictionary<int, (long RetryAt, long Ticket)> _restoring = [];
    private long _lastTicket;

    // TryGet's last answer; forgotten whenever a state is added or removed.
    private PartitionState? _last;
    private int _lastPartition;

    public IReadOnlyCollection<PartitionState> Owned => _owned.Values;

    public int OwnedCount => _owned.Count;

    public int RestoringCount => _restoring.Count;

    /// <summary>The partitions assigned whose state is not restored yet.</summary>
    public IEnumerable<int> RestoringPartitions => _restoring.Keys;

    /// <summary>Why the last restore that failed did (null before any did): what a run that gives up on them says.</summary>
    public string? LastRestoreFailure { get; private set; }

    /// <summary>A non-empty assignment was seen this run.</summary>
    public bool EverAssigned { get; private set; }

    public bool TryGet(int partition, out PartitionState state)
    {
        // Records come in runs of one partition (a fetch response's batch): the last one found is asked first.
        if (_last is { } last && _lastPartition == partition)
        {
            state = last;
            return true;
        }

        if (_owned.TryGetValue(partition, out state!))
        {
            (_last, _lastPartition) = (state, partition);
            return true;
        }

        return false;
    }

    public void Assigned() => EverAssigned = true;

    /// <summary>The partition waits for its state, to be tried at <paramref name="retryAt"/> (a timestamp of the monotonic clock).</summary>
    /// <param name="failure">Why its restore failed, when it did.</param>
    public void Restoring(int partition, long retryAt, string? failure = null)
    {
        var ticket = _restoring.TryGetValue(partition, out var waiting) ? waiting.Ticket : ++_lastTicket;
        _restoring[partition] = (retryAt, ticket);
        LastRestoreFailure = failure ?? LastRestoreFailure;
    }

    /// <summary>
    /// Which wait for its state the partition is in: one per assignment, from the assignment to the
    /// restore or the revoke (null: not waiting). A restore read off the loop's thread restores the
    /// partition only if it still waits with the ticket it had when the read began: a partition revoked
    /// meanwhile, and assigned again, may have been processed by another member in between.
    /// </summary>
    public long? RestoreTicket(int partition) => _restoring.TryGetValue(partition, out var waiting) ? waiting.Ticket : null;

    /// <summary>Partitions whose restore is due at <paramref name="now"/> (a timestamp of the monotonic clock).</summary>
    public List<int> RestoresDue(long now) => [.. _restoring.Where(r => r.Value.RetryAt <= now).Select(r => r.Key)];

    /// <summary>The partition's state is restored: it is held, no longer restoring.</summary>
    public void Add(PartitionState state)
    {
        _last = null;
        _owned[state.Partition.Partition.Value] = state;
        _restoring.Remove(state.Partition.Partition.Value);
    }

    /// <summary>The partitions left this processor: their states are released.</summary>
    public void Remove(IEnumerable<TopicPartition> partitions)
    {
        _last = null;
        foreach (var partition in partitions)
        {
            if (_owned.Remove(partition.Partition.Value, out var state))
            {
                state.Release();
            }

            _restoring.Remove(partition.Partition.Value);
        }
    }

    /// <param name="holds">Why each held partition may not fetch (<see cref="FetchControl.Holds"/>).</param>
    public ProcessorView View(ProcessorCounters counters, int windowMinutes, IReadOnlyDictionary<int, FetchHold> holds)
    {
        var partitions = _owned.ToDictionary(
            p => p.Key,
            p => new PartitionView(p.Value.NextOffset, p.Value.Checkpoint.CoveredOffset, p.Value.Aggregate.Count) { Held = holds.GetValueOrDefault(p.Key) });
        var aggregates = AggregateData.Combine(_owned.Values.Select(s => s.Aggregate.ToData()), windowMinutes);
        return new ProcessorView(counters, aggregates, partitions, _restoring.Count, EverAssigned);
    }
}
