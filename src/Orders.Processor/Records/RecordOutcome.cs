namespace Orders.Processor.Records;

/// <summary>How a record in hand ends (this time round).</summary>
public enum RecordEnd : byte
{
    /// <summary>Handled: it enters the aggregate.</summary>
    Processed,

    /// <summary>Written to the dead-letter topic with <see cref="RecordOutcome.Reason"/>, and done.</summary>
    DeadLettered,

    /// <summary>Tried again after <see cref="RecordOutcome.Delay"/>: a transient failure, one attempt spent.</summary>
    Retry,

    /// <summary>
    /// Waits <see cref="RecordOutcome.Delay"/>, no attempt spent: the registry cannot be reached, or (with
    /// <see cref="RecordOutcome.Stopped"/>) the run is stopping and the record is left for the next one.
    /// </summary>
    Wait,
}

/// <summary>
/// The one value a record's processing comes to, inline or through the dispatcher: the failure
/// policy gives it for every failure, and <see cref="RecordProcessor"/> carries it out in one place.
/// A struct: the hot path allocates nothing for it.
/// </summary>
public readonly record struct RecordOutcome(RecordEnd End, TimeSpan Delay, string? Reason, Exception? Error)
{
    /// <summary>The <see cref="Reason"/> of a wait that only ends with the run (the registry rejected the credentials).</summary>
    public const string StoppedReason = "stopped";

    public static RecordOutcome Processed { get; } = new(RecordEnd.Processed, TimeSpan.Zero, null, null);

    public bool Stopped => End == RecordEnd.Wait && Reason == StoppedReason;

    public static RecordOutcome DeadLettered(string reason, Exception error) => new(RecordEnd.DeadLettered, TimeSpan.Zero, reason, error);

    public static RecordOutcome RetryAfter(TimeSpan delay, Exception error) => new(RecordEnd.Retry, delay, null, error);

    public static RecordOutcome WaitFor(TimeSpan delay, Exception error) => new(RecordEnd.Wait, delay, null, error);

    /// <summary>The run stops (recorded in the <see cref="Loop.FatalSignal"/>): the record is left undone, for the next run.</summary>
    public static RecordOutcome Stop(TimeSpan delay, Exception error) => new(RecordEnd.Wait, delay, StoppedReason, error);
}
