using Orders.Processor.Aggregates;
using Orders.Processor.Partitions;

namespace Orders.Processor.Observability;

/// <summary>The end of a run: what this processor did, and the state of the partitions it held at the end.</summary>
/// <param name="NotCheckpointed">Partitions held at the end whose final checkpoint could not be written: the next owner reprocesses them from their previous one.</param>
public sealed record ProcessorSummary(ProcessorView View, TimeSpan Elapsed, IReadOnlyList<int> NotCheckpointed)
{
    public ProcessorCounters Counters => View.Counters;

    public long DeadLetteredTotal => View.Counters.DeadLetteredByReason.Values.Sum();
}

/// <summary>A point-in-time view for summaries, live views and metrics.</summary>
/// <param name="Aggregates">The combined state of the partitions held (restored checkpoints included).</param>
/// <param name="Partitions">Per held partition: the offset its state covers up to, and its own totals.</param>
/// <param name="Restoring">Partitions assigned whose state is still being restored.</param>
public sealed record ProcessorView(
    ProcessorCounters Counters,
    AggregateData Aggregates,
    IReadOnlyDictionary<int, PartitionView> Partitions,
    int Restoring,
    bool EverAssigned)
{
    public static ProcessorView Empty(ProcessorCounters counters) =>
        new(counters, AggregateData.Empty, new Dictionary<int, PartitionView>(), 0, false);

    /// <summary>The handlers' work at the moment of the view.</summary>
    public HandlerLoad Load { get; init; } = HandlerLoad.None;

    /// <summary>The processor is closing (stopped, idle, or a fatal error): it reads nothing more, and shows the state it ends with.</summary>
    public bool Stopping { get; init; }

    /// <summary>Where the processor is, as readiness, the dashboard and the live view each say it: one rule for all three.</summary>
    public ProcessorPhase Phase => this switch
    {
        { Stopping: true } => ProcessorPhase.Stopping,
        { Restoring: > 0 } => ProcessorPhase.Restoring,
        { Partitions.Count: > 0 } => ProcessorPhase.Processing,
        { EverAssigned: true } => ProcessorPhase.NoPartitions,
        _ => ProcessorPhase.Waiting,
    };
}

/// <summary>Where the processor is (<see cref="ProcessorView.Phase"/>); only <see cref="Processing"/> is ready.</summary>
public enum ProcessorPhase
{
    /// <summary>No partition assigned yet.</summary>
    Waiting,

    /// <summary>Partitions were assigned, and the group gave them all to other members since.</summary>
    NoPartitions,

    /// <summary>Partitions assigned wait for their state.</summary>
    Restoring,

    /// <summary>Partitions held, their state restored.</summary>
    Processing,

    /// <summary>Closing: it reads nothing more (stopped, idle, or a fatal error).</summary>
    Stopping,
}

/// <summary>Records on their way through the handler: calls under way, waiting for an earlier record of their key, waiting out a retry's backoff, ready to start once a call ends.</summary>
public sealed record HandlerLoad(int InFlight, int WaitingForKey, int WaitingForBackoff, int Queued)
{
    public static HandlerLoad None { get; } = new(0, 0, 0, 0);
}

/// <param name="Count">Orders in the partition's state, of every currency.</param>
public sealed record PartitionView(long NextOffset, long CheckpointedOffset, long Count)
{
    /// <summary>Why the partition may not fetch now (<see cref="FetchHold.None"/>: it fetches).</summary>
    public FetchHold Held { get; init; }
}

/// <summary>
/// What a running processor shows the rest of the process: its counters, the newest view of its
/// state (published by the loop about twice a second), the lag librdkafka's statistics report, and
/// the newest dead letters. The summary, the live views, <c>/metrics</c>, the health checks, the
/// dashboard and the bench all read this, never the loop: it is the one object shared across threads,
/// and everything in it is safe to read from any thread.
/// </summary>
public sealed class ProcessorStatus
{
    private readonly TimeProvider _time;
    private volatile ProcessorView _view;
    private long _publishedAt;
    private volatile bool _published;

    /// <param name="readCommitted">The consumer reads committed records only (lag then counts from the last stable offset).</param>
    /// <param name="time">The clock that times how long no broker has been connected.</param>
    public ProcessorStatus(string topic, bool readCommitted, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Statistics = new ConsumerStatistics(topic, readCommitted, _time);
        _view = ProcessorView.Empty(Counters);
    }

    public ProcessorCounters Counters { get; } = new();

    /// <summary>End offsets of the topic's partitions from librdkafka's statistics, for lag.</summary>
    public ConsumerStatistics Statistics { get; }

    /// <summary>The newest dead-letter decisions of this run, for the dashboard.</summary>
    public RecentDeadLetters RecentDeadLetters { get; } = new();

    /// <summary>The newest view, refreshed about twice a second while running.</summary>
    public ProcessorView View => _view;

    /// <summary>How long since the consume loop last published a view (it does about twice a second while it turns); null before the first.</summary>
    public TimeSpan? SinceLastView => _published ? _time.GetElapsedTime(Interlocked.Read(ref _publishedAt)) : null;

    internal void Publish(ProcessorView view)
    {
        _view = view;
        Interlocked.Exchange(ref _publishedAt, _time.GetTimestamp());
        _published = true;
    }
}
