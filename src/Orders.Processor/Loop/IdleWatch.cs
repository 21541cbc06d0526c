namespace Orders.Processor.Loop;

/// <summary>What <see cref="IdleWatch"/> makes of the loop's state.</summary>
public enum IdleVerdict
{
    /// <summary>Not idle (or no <c>--until-idle</c>): go on.</summary>
    Going,

    /// <summary>Nothing arrived and nothing was outstanding for the idle time: stop, done.</summary>
    Idle,

    /// <summary>Idle without ever having been assigned a partition: stop, having done nothing.</summary>
    NeverAssigned,

    /// <summary>Only the registry holds the records back, for longer than the idle time: stop, having done nothing more.</summary>
    RegistryUnreachable,

    /// <summary>Partitions wait for a restore that keeps failing, and nothing progressed for longer than the patience: stop, having done what it could.</summary>
    RestoresFailing,
}

/// <summary>What is going on in the loop when it found no record to process.</summary>
/// <param name="Quiet">Nothing is outstanding: no retry waits, no restore, no checkpoint in flight, no dead letter unacknowledged, no partition held.</param>
/// <param name="HoldsPartitions">Partitions are held (restored).</param>
/// <param name="EverAssigned">A partition was assigned at some point in this run.</param>
/// <param name="OnlyRegistryWaits">Every partition paused is waiting for the registry (none for a retry of its own).</param>
/// <param name="RestoresFailing">Partitions assigned wait for their state, and no read of it is under way: their restore failed, and waits for its retry.</param>
public readonly record struct LoopActivity(bool Quiet, bool HoldsPartitions, bool EverAssigned, bool OnlyRegistryWaits, bool RestoresFailing = false);

/// <summary>
/// The <c>--until-idle</c> rules, on the injected clock. Idle time counts from the last record, the
/// last assignment or restore (a partition resumed a moment ago has not had time to deliver yet),
/// and the end of the last outstanding work (a retry, a dead letter waiting for its broker, a
/// partition held for its checkpoint). Holding no partition (before the first assignment, or
/// between a revoke and the next) it waits at least <c>firstAssignmentWait</c>: joining a group can
/// take a while.
/// </summary>
public sealed class IdleWatch
{
    private readonly TimeProvider _time;
    private readonly TimeSpan? _idle;
    private readonly TimeSpan _firstAssignmentWait;
    private long _lastRecord;
    private long _lastProgress;
    private long _lastReady;
    private long _lastBusy;

    /// <param name="idle">The idle time; null never stops.</param>
    public IdleWatch(TimeProvider time, TimeSpan? idle, TimeSpan firstAssignmentWait)
    {
        _time = time;
        _idle = idle;
        _firstAssignmentWait = firstAssignmentWait;
        _lastRecord = _lastProgress = _lastReady = _lastBusy = time.GetTimestamp();
    }

    /// <summary>How long no record has reached an outcome (a record fetched again after a wait for the registry has not).</summary>
    public TimeSpan SinceLastProgress => _time.GetElapsedTime(_lastProgress);

    /// <summary>How long an idle run waits at least, for an assignment or for the registry.</summary>
    public TimeSpan PatienceLimit => Threshold(_idle ?? _firstAssignmentWait, holdsPartitions: false);

    public void RecordArrived() => RecordArrived(_time.GetTimestamp());

    /// <summary>A record arrived at <paramref name="timestamp"/> (the loop reads its clock once a turn).</summary>
    public void RecordArrived(long timestamp) => _lastRecord = timestamp;

    /// <summary>A record reached an outcome: processed, dead-lettered, honoured, or passed over.</summary>
    public void Progressed() => Progressed(_time.GetTimestamp());

    /// <inheritdoc cref="Progressed()"/>
    public void Progressed(long timestamp) => _lastProgress = timestamp;

    /// <summary>Partitions were assigned (called once their restore has ended, or failed), or restored later and resumed.</summary>
    public void Ready() => _lastReady = _time.GetTimestamp();

    /// <summary>
    /// How long, from <paramref name="now"/>, until the run could first be idle (null without
    /// <c>--until-idle</c>; zero or less once it could be): the poll need not wait longer, so a run
    /// stops when its idle time is up, not at its next poll after that (up to the poll's 100 ms later).
    /// </summary>
    /// <param name="now">The loop's timestamp of this turn.</param>
    /// <param name="holdsPartitions">Partitions are held (else the first assignment's wait applies, as in <see cref="Check"/>).</param>
    public TimeSpan? UntilIdle(long now, bool holdsPartitions) =>
        _idle is { } idle ? Threshold(idle, holdsPartitions) - _time.GetElapsedTime(QuietSince, now) : null;

    public IdleVerdict Check(LoopActivity activity)
    {
        if (_idle is not { } idle)
        {
            return IdleVerdict.Going;
        }

        if (!activity.Quiet)
        {
            _lastBusy = _time.GetTimestamp();
        }
        else
        {
            if (_time.GetElapsedTime(QuietSince) >= Threshold(idle, activity.HoldsPartitions))
            {
                return activity.EverAssigned ? IdleVerdict.Idle : IdleVerdict.NeverAssigned;
            }
        }

        // A run that could only wait: with --until-idle it would never end (a restore is tried again every few seconds, for good).
        return SinceLastProgress < PatienceLimit ? IdleVerdict.Going
            : activity.OnlyRegistryWaits ? IdleVerdict.RegistryUnreachable
            : activity.RestoresFailing ? IdleVerdict.RestoresFailing
            : IdleVerdict.Going;
    }

    /// <summary>The last record, readiness or busy turn: idle time counts from there.</summary>
    private long QuietSince => Math.Max(Math.Max(_lastRecord, _lastReady), _lastBusy);

    /// <summary>How long quiet is idle: holding no partition, at least the first assignment's wait.</summary>
    private TimeSpan Threshold(TimeSpan idle, bool holdsPartitions) =>
        holdsPartitions || idle >= _firstAssignmentWait ? idle : _firstAssignmentWait;
}
