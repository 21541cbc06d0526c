using Orders.Contracts;

namespace Orders.Processor.Failures;

public enum FailureAction
{
    /// <summary>Pause the partition, rewind to the record, try it again after the delay.</summary>
    Retry,

    /// <summary>The registry is away: pause and try again after the delay, for as long as it takes; no attempt is spent.</summary>
    WaitForRegistry,

    /// <summary>Write the record to the dead-letter topic with this reason and move on.</summary>
    DeadLetter,
}

/// <param name="Reason">The <c>dlq.reason</c>, for <see cref="FailureAction.DeadLetter"/>.</param>
public readonly record struct FailureDecision(FailureAction Action, TimeSpan Delay, string? Reason);

/// <summary>
/// What to do with a record whose processing failed: poison and invalid records are dead-lettered
/// at once, a registry outage is waited out, a transient failure is retried with backoff until
/// <paramref name="maxAttempts"/> attempts were made, then dead-lettered.
/// </summary>
public sealed class FailurePolicy(RetrySchedule schedule, int maxAttempts)
{
    public int MaxAttempts { get; } = maxAttempts >= 1 ? maxAttempts : throw new ArgumentOutOfRangeException(nameof(maxAttempts));

    /// <summary>The longest backoff: the pace at which a cause that lasts is probed.</summary>
    public TimeSpan MaxDelay => schedule.MaxDelay;

    /// <param name="failures">Failed attempts of this record before this one (registry waits not counted).</param>
    /// <param name="registryWaits">Times this record already waited for the registry.</param>
    public FailureDecision Decide(FailureKind kind, int failures, int registryWaits) => kind switch
    {
        FailureKind.Poison => new(FailureAction.DeadLetter, TimeSpan.Zero, DeadLetterHeaders.ReasonPoison),
        FailureKind.Invalid => new(FailureAction.DeadLetter, TimeSpan.Zero, DeadLetterHeaders.ReasonInvalid),
        FailureKind.RegistryUnavailable => new(FailureAction.WaitForRegistry, schedule.DelayAfter(registryWaits + 1), null),
        FailureKind.Transient when failures + 1 < MaxAttempts => new(FailureAction.Retry, schedule.DelayAfter(failures + 1), null),
        _ => new(FailureAction.DeadLetter, TimeSpan.Zero, DeadLetterHeaders.ReasonRetriesExhausted),
    };
}
