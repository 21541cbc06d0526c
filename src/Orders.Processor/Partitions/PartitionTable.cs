using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// The partitions this processor holds: those with their state restored, those still restoring
/// (with when to try again), and the pause and resume flags to apply once a rebalance callback has
/// returned (librdkafka ignores a pause of a partition it has not assigned yet). The loop's thread only.
/// </summary>
public sealed class PartitionTable
{
    private readonly Dictionary<int, PartitionState> _owned = [];
    private readonly Dictionary<int, DateTimeOffset> _restoring = [];
    private readonly HashSet<TopicPartition> _pauseNow = [];
    private readonly HashSet<TopicPartition> _resumeNow = [];

    public IReadOnlyCollection<PartitionState> Owned => _owned.Values;

    public int OwnedCount => _owned.Count;

    public int RestoringCount => _restoring.Count;

    /// <summary>A non-empty assignment was seen this run.</summary>
    public bool EverAssigned { get; private set; }

    public bool TryGet(int partition, out PartitionState state) => _owned.TryGetValue(partition, out state!);

    public void Assigned() => EverAssigned = true;

    /// <summary>The partition waits for its state, to be tried at <paramref name="retryAt"/>.</summary>
    public void Restoring(int partition, DateTimeOffset retryAt) => _restoring[partition] = retryAt;

    /// <summary>Partitions whose restore is due now.</summary>
    public List<int> RestoresDue(DateTimeOffset now) => [.. _restoring.Where(r => r.Value <= now).Select(r => r.Key)];

    /// <summary>The partition's state is restored: it is held, no longer restoring.</summary>
    public void Add(PartitionState state)
    {
        _owned[state.Partition.Partition.Value] = state;
        _restoring.Remove(state.Partition.Partition.Value);
    }

    public void PauseLater(TopicPartition partition)
    {
        _resumeNow.Remove(partition);
        _pauseNow.Add(partition);
    }

    public void ResumeLater(TopicPartition partition)
    {
        _pauseNow.Remove(partition);
        _resumeNow.Add(partition);
    }

    /// <summary>The partition is resumed now (restored): a pause still pending for it must not follow.</summary>
    public void Resumed(TopicPartition partition) => _pauseNow.Remove(partition);

    /// <summary>Takes the pending pause and resume flags (to apply outside a rebalance callback).</summary>
    public (IReadOnlyCollection<TopicPartition> Pause, IReadOnlyCollection<TopicPartition> Resume) TakeFlags()
    {
        if (_pauseNow.Count == 0 && _resumeNow.Count == 0)
        {
            return ([], []);
        }

        var flags = (_pauseNow.ToList(), _resumeNow.ToList());
        _pauseNow.Clear();
        _resumeNow.Clear();
        return flags;
    }

    /// <summary>The partitions left this processor: their states are released, their flags dropped.</summary>
    public void Remove(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            if (_owned.Remove(partition.Partition.Value, out var state))
            {
                state.Release();
            }

            _restoring.Remove(partition.Partition.Value);
            _pauseNow.Remove(partition);
            _resumeNow.Remove(partition);
        }
    }

    public ProcessorView View(ProcessorCounters counters, int windowMinutes)
    {
        var partitions = _owned.ToDictionary(
            p => p.Key,
            p => new PartitionView(p.Value.NextOffset, p.Value.Checkpoint.CoveredOffset, p.Value.Aggregate.Count));
        var aggregates = AggregateData.Combine(_owned.Values.Select(s => s.Aggregate.ToData()), windowMinutes);
        return new ProcessorView(counters, aggregates, partitions, _restoring.Count, EverAssigned);
    }
}
