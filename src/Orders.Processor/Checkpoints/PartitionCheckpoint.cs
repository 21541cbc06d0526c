using System.Globalization;
using System.Text;
using Avro;
using Avro.Generic;
using Orders.Contracts;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// The exact state of one input partition for one consumer group: <see cref="Data"/> covers the
/// records before <see cref="NextOffset"/>, no more, no less. Restoring it and resuming at
/// <see cref="NextOffset"/> is exact whatever happened to group offsets, and any checkpoint,
/// even a stale one, is self-consistent (it only costs reprocessing).
/// </summary>
/// <param name="DeadLetterPartition">The partition of the dead-letter topic that holds this partition's dead letters.</param>
/// <param name="DeadLetterOffset">Dead letters for records at or after <see cref="NextOffset"/> sit at or after this offset of it.</param>
public sealed record PartitionCheckpoint(
    string Group,
    string Topic,
    int Partition,
    string CheckpointId,
    long NextOffset,
    int DeadLetterPartition,
    long DeadLetterOffset,
    DateTimeOffset WrittenAt,
    AggregateData Data)
{
    /// <summary>Records completed above <see cref="NextOffset"/>, as <see cref="Partitions.OffsetTracker.ToRanges"/> encodes them; empty for a checkpoint written before records completed out of order.</summary>
    public IReadOnlyList<long> CompletedRanges { get; init; } = [];

    /// <summary>The keys of the stats records it was read from (empty for one not read from the topic): deleted once a newer checkpoint is on record.</summary>
    public IReadOnlyList<string> ChunkKeys { get; init; } = [];
}

/// <summary>One record of a checkpoint on the stats topic: chunk <see cref="Chunk"/> of <see cref="ChunkCount"/>.</summary>
public sealed record CheckpointChunk(PartitionCheckpoint Checkpoint, int Chunk, int ChunkCount);
