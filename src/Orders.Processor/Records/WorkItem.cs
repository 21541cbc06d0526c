using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>Which records may be handled at the same time.</summary>
public enum Ordering
{
    /// <summary>Records with the same key one after another, in offset order; other keys, and records without a key, concurrently.</summary>
    Key,

    /// <summary>One record of a partition at a time, in offset order (the processor's behaviour before concurrent handling).</summary>
    Partition,

    /// <summary>Any records concurrently, up to the in-flight limit.</summary>
    Unordered,
}

/// <summary>One valid order on its way through the handler: in flight, waiting for its key, or waiting out a retry's backoff.</summary>
public sealed class WorkItem(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Order order, long eventTimeMs, CancellationToken cancellation)
{
    public ConsumeResult<byte[]?, byte[]?> Record { get; } = record;

    public PartitionState State { get; } = state;

    public Order Order { get; } = order;

    public long EventTimeMs { get; } = eventTimeMs;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Failed attempts so far (registry waits not counted).</summary>
    public int Failures { get; set; }

    public int RegistryWaits { get; set; }

    /// <summary>When its retry is due: a timestamp of the monotonic clock (<see cref="Orders.Hosting.Monotonic"/>).</summary>
    public long DueAt { get; set; }

    /// <summary>The timestamp of the attempt under way, for the processing-time histogram; null while latencies are not measured.</summary>
    public long? StartedAt { get; set; }

    /// <summary>The record's process span, ended with its outcome; null with tracing off.</summary>
    public System.Diagnostics.Activity? Span { get; init; }

    internal KeyLane? Lane { get; set; }
}

/// <summary>A record the <see cref="Dispatcher"/> gives back: its handler call ended (with <see cref="Error"/>, or none), or its partition left first.</summary>
/// <param name="Abandoned">Its partition left this processor before it was done: its next owner processes it; nothing is counted here.</param>
public readonly record struct Completion(WorkItem Item, Exception? Error, bool Abandoned);
