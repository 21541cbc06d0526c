using Orders.Contracts;
using Orders.Processor.Loop;
using Orders.Processor.Records;

namespace Orders.Processor.Failures;

/// <summary>
/// What becomes of a record whose processing failed, whatever failed (its bytes, its order, its
/// handler): poison and invalid records are dead-lettered at once, a registry outage is waited
/// out, a transient failure is retried with backoff until <paramref name="maxAttempts"/> attempts
/// were made, then dead-lettered; a registry that rejects the credentials stops the run
/// (<see cref="FatalSignal.StopsOnRejectedCredentials"/>).
/// </summary>
public sealed class FailurePolicy(RetrySchedule schedule, int maxAttempts, FatalSignal fatal)
{
    public int MaxAttempts { get; } = maxAttempts >= 1 ? maxAttempts : throw new ArgumentOutOfRangeException(nameof(maxAttempts));

    /// <summary>The longest backoff: the pace at which a cause that lasts is probed.</summary>
    public TimeSpan MaxDelay => schedule.MaxDelay;

    /// <param name="failures">Failed attempts of this record before this one (registry waits not counted).</param>
    /// <param name="registryWaits">Times this record already waited for the registry.</param>
    public RecordOutcome Decide(Exception error, int failures, int registryWaits)
    {
        if (fatal.StopsOnRejectedCredentials(error))
        {
            return RecordOutcome.Stop(MaxDelay, error);
        }

        return FailureClassifier.Classify(error) switch
        {
            FailureKind.Poison => RecordOutcome.DeadLettered(DeadLetterHeaders.ReasonPoison, error),
            FailureKind.Invalid => RecordOutcome.DeadLettered(DeadLetterHeaders.ReasonInvalid, error),
            FailureKind.RegistryUnavailable => RecordOutcome.WaitFor(schedule.DelayAfter(registryWaits + 1), error),
            FailureKind.Transient when failures + 1 < MaxAttempts => RecordOutcome.RetryAfter(schedule.DelayAfter(failures + 1), error),
            _ => RecordOutcome.DeadLettered(DeadLetterHeaders.ReasonRetriesExhausted, error),
        };
    }
}
