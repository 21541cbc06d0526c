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
    private readonly System.Collections.Concurrent.ConcurrentQueue<Exception> _failures = new();

    /// <summary>The dead-letter partition of an input partition, as the topics' layout has it (a restore reads its letters there, and they are written there).</summary>
    public Func<int, int> DeadLetterPartitionFor { get; set; } = p => p;

    /// <summary>Reads that have begun (counted at their start, on the thread that reads).</summary>
    public int Reads => Volatile.Read(ref _reads);

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

    /// <summary>
    /// The dead letters in the topic, as a reader finds them (the fake producer's acknowledged letters, say): each
    /// one whose headers name a partition is a decision on record for it, besides those given by <see cref="DeadLettered"/>.
    /// </summary>
    public Func<IReadOnlyList<Message<byte[]?, byte[]?>>>? LettersOnRecord { get; set; }

    /// <summary>A read that includes a partition this gives an error for fails with it (its leader is away, say), whatever else it reads.</summary>
    public Func<int, Exception?>? FailsFor { get; set; }

    /// <summary>Reads wait until cancelled, as a read waits for a broker that is away.</summary>
    public bool WaitsForCancellation { get; set; }

    /// <summary>
    /// Reads of a partition this answers true for find what is stored when they begin, then wait until
    /// <see cref="Slow"/> is set (or they are cancelled) to answer, or to fail as they would have: a broker slow to answer.
    /// </summary>
    public Func<int, bool>? IsSlow { get; set; }

    public ManualResetEventSlim Slow { get; } = new();

    /// <summary>Completed when a slow read gave up, cancelled.</summary>
    public TaskCompletionSource SlowReadCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private int _reads;

    /// <summary>The partitions of each read, in the order read.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<IReadOnlyList<int>> ReadPartitions { get; } = new();

    public IReadOnlyDictionary<int, StoredPartition> Read(IReadOnlyList<int> partitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reads);
        ReadPartitions.Enqueue([.. partitions]);
        OnRead?.Invoke();
        var found = partitions.Any(p => IsSlow?.Invoke(p) == true) ? Find(partitions, timeout) : null;
        if (found is not null)
        {
            WaitHandle.WaitAny([Slow.WaitHandle, cancellationToken.WaitHandle]);
            if (cancellationToken.IsCancellationRequested)
            {
                SlowReadCancelled.TrySetResult();
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

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

        return found ?? Find(partitions, timeout);
    }

    private Dictionary<int, StoredPartition> Find(IReadOnlyList<int> partitions, TimeSpan timeout)
    {
        var letters = LettersOnRecord?.Invoke() ?? [];
        return partitions.ToDictionary(
            p => p,
            p => new StoredPartition(
                _checkpoints.GetValueOrDefault(p),
                new LedgerScan(DecisionsFor(p, letters), 0, 0),
                DeadLetterPartitionFor(p),
                consumer.QueryWatermarkOffsets(new TopicPartition(consumer.Topic, p), timeout)));
    }

    private Dictionary<long, DeadLetterDecision> DecisionsFor(int partition, IReadOnlyList<Message<byte[]?, byte[]?>> letters)
    {
        var decisions = new Dictionary<long, DeadLetterDecision>(_decisions.GetValueOrDefault(partition) ?? []);
        for (var i = 0; i < letters.Count; i++)
        {
            if (DeadLetterOrigin.From(letters[i].Headers) is { } origin && origin.Partition == partition)
            {
                decisions.TryAdd(origin.Offset, new DeadLetterDecision(origin.Reason, i));
            }
        }

        return decisions;
    }
}
