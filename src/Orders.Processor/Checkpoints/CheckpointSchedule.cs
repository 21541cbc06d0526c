using Orders.Hosting;
using Orders.Processor.Partitions;
namespace Orders.Processor.Checkpoints;

/// <summary>What the consume loop should do about a partition's checkpoint now.</summary>
public enum CheckpointStep
{
    /// <summary>Not due, or nothing changed since the last one.</summary>
    None,

    /// <summary>Due and possible: write it.</summary>
    Write,

    /// <summary>Due, but dead letters are still unacknowledged: try again on the next pump.</summary>
    Wait,

    /// <summary>
    /// Due for too long with dead letters always in flight (a stream of bad records): hold the
    /// partition (pause it) until they are acknowledged, so that its checkpoints cannot starve.
    /// </summary>
    Hold,
}

/// <summary>
/// When each partition is checkpointed: every <paramref name="interval"/> if its state changed.
/// A checkpoint may only cover records whose dead letters are acknowledged; when a partition is
/// due but has letters in flight it waits, and if it has waited <paramref name="holdAfter"/>,
/// the partition is held until its letters drain. Pure logic on the injected clock.
/// </summary>
public sealed class CheckpointSchedule(TimeProvider time, TimeSpan interval, TimeSpan holdAfter)
{
    public TimeSpan Interval { get; } = interval;

    /// <summary>A newly restored partition is first due one interval from now.</summary>
    public void Started(PartitionState state) => state.Checkpoint.DueFrom(time.After(Interval));

    public CheckpointStep Next(PartitionState state)
    {
        var now = time.GetTimestamp();
        if (!state.Dirty || state.Checkpoint.InFlight || now < state.Checkpoint.DueAt)
        {
            return CheckpointStep.None;
        }

        if (state.PendingDeadLetters == 0)
        {
            return CheckpointStep.Write;
        }

        return Monotonic.Span(time, now - state.Checkpoint.DueAt) >= holdAfter ? CheckpointStep.Hold : CheckpointStep.Wait;
    }

    /// <summary>A checkpoint was handed to the producer: the next is due one interval on.</summary>
    public void Written(PartitionState state) => state.Checkpoint.DueFrom(time.After(Interval));
}
