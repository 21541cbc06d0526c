using Confluent.Kafka;
using Orders.Kafka;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Hosting;

namespace Orders.Processor.Partitions;

/// <summary>What is on record for one input partition at the moment it is assigned.</summary>
/// <param name="Checkpoint">Its newest complete checkpoint, or null where it has none.</param>
/// <param name="DeadLetters">The dead letters written for its records since that checkpoint.</param>
/// <param name="DeadLetterPartition">The dead-letter partition those letters are in.</param>
/// <param name="Watermarks">The input partition's start and end, to tell records that retention deleted while no one held it.</param>
public sealed record StoredPartition(PartitionCheckpoint? Checkpoint, LedgerScan DeadLetters, int DeadLetterPartition, WatermarkOffsets Watermarks);

/// <summary>Where a restore reads a partition's record from: the stats and dead-letter topics (a fake in unit tests).</summary>
public interface IPartitionStateSource
{
    /// <exception cref="Failures.RegistryUnavailableException">A checkpoint's schema is needed and the registry cannot be reached.</exception>
    /// <exception cref="KafkaException">A topic cannot be read.</exception>
    /// <exception cref="TimeoutException">Reading took longer than <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for a broker (the processor is stopping).</exception>
    IReadOnlyDictionary<int, StoredPartition> Read(IReadOnlyList<int> partitions, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Reads the newest checkpoints, the dead letters since and the watermarks without joining a group.</summary>
public sealed class KafkaStateSource(TopicLayout layout, string group, PartitionRangeReader reader, CheckpointReader checkpoints, DeadLetterLedger ledger)
    : IPartitionStateSource
{
    public IReadOnlyDictionary<int, StoredPartition> Read(IReadOnlyList<int> partitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var latest = checkpoints.ReadLatest(layout.StatsTopic, group, partitions, timeout, cancellationToken);
        var requests = partitions.ToDictionary(
            p => p,
            p => new LedgerRequest(
                layout.Topic,
                p,
                group,
                latest[p]?.NextOffset ?? 0,
                layout.DeadLetterPartitionFor(p),
                latest[p] is { } c && c.DeadLetterPartition == layout.DeadLetterPartitionFor(p) ? c.DeadLetterOffset : 0));
        var scans = ledger.ReadBack(layout.DeadLetterTopic, [.. requests.Values], timeout, cancellationToken);
        return partitions.ToDictionary(
            p => p,
            p => new StoredPartition(latest[p], scans[requests[p]], requests[p].DeadLetterPartition, reader.Watermarks(new TopicPartition(layout.Topic, p), timeout, cancellationToken)));
    }
}

/// <summary>
/// A source built at its first read, on the thread that reads: a spare reader client costs its connections only
/// once it is needed. Built once; a build that fails because the processor is closing is a cancelled read.
/// </summary>
public sealed class SpareStateSource(Func<IPartitionStateSource> build) : IPartitionStateSource
{
    private readonly Lock _building = new();
    private IPartitionStateSource? _source;

    public IReadOnlyDictionary<int, StoredPartition> Read(IReadOnlyList<int> partitions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        IPartitionStateSource source;
        lock (_building)
        {
            try
            {
                source = _source ??= build();
            }
            catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }

        return source.Read(partitions, timeout, cancellationToken);
    }
}
