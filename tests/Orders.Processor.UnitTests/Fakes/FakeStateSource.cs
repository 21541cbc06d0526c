using Confluent.Kafka;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// What a restore finds on record: per partition a checkpoint (none unless given), the dead letters
/// written since, and the partition's watermarks (read from the fake consumer). Reads can be made to fail.
/// </summary>
public sealed class FakeStateSource(FakeConsumer consumer) : IPartitionStateSource
{
    private readonly Dictionary<int, PartitionCheckpoint> _checkpoints = [];
    private readonly Dictionary<int, Dictionary<long, DeadLetterDecision>> _decisions = [];
    private readonly Queue<Exception> _failures = new();

    public int Reads { get; private set; }

    /// <summary>Runs at the start of every read (a read that takes its time advances the fake clock, say).</summary>
    public Action? OnRead { get; set; }

    public void Checkpoint(PartitionCheckpoint checkpoint) => _checkpoints[checkpoint.Partition] = checkpoint;

    public void DeadLettered(int partition, long offset, string reason, long deadLetterOffset)
    {
        if (!_decisions.TryGetValue(partition, out var decisions))
        {
            decisions = [];
            _decisions[partition] = decisions;
        }

        decisions[offset] = new DeadLetterDecision(reason, deadLetterOffset);
    }

    /// <summary>The next reads fail with these errors, one each.</summary>
    public void FailNext(params Exception[] errors)
    {
        foreach (var error in errors)
        {
            _failures.Enqueue(error);
        }
    }

    /// <summary>A read that includes a partition this gives an error for fails with it (its leader is away, say), whatever else it reads.</summary>
    public Func<int, Exception?>? FailsFor { get; set; }

    /// <summary>Reads wait until cancelled, as a read waits for a broker that is away.</summary>
    public bool WaitsForCancellation { get; set; }

    public IReadOnlyDictionary<int, StoredPartition> Read(IReadOnlyList<int> partitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Reads++;
        OnRead?.Invoke();
        if (WaitsForCancellation)
        {
            cancellationToken.WaitHandle.WaitOne();
            cancellationToken.ThrowIfCancellationRequested();
        }

        if (_failures.TryDequeue(out var failure))
        {
            throw failure;
        }

        if (partitions.Select(p => FailsFor?.Invoke(p)).FirstOrDefault(e => e is not null) is { } unreadable)
        {
            throw unreadable;
        }

        return partitions.ToDictionary(
            p => p,
            p => new StoredPartition(
                _checkpoints.GetValueOrDefault(p),
                new LedgerScan(_decisions.GetValueOrDefault(p) ?? [], 0, 0),
                p,
                consumer.QueryWatermarkOffsets(new TopicPartition(consumer.Topic, p), timeout)));
    }
}
