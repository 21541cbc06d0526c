using Polly.Contrib.WaitAndRetry;

namespace Orders.Processor.Failures;

/// <summary>
/// Delays between attempts: exponential backoff with decorrelated jitter (Polly's
/// <c>DecorrelatedJitterBackoffV2</c>), seeded from an injected <see cref="Random"/> so a run can
/// be replayed, and capped so a long outage is probed at a steady pace.
/// </summary>
public sealed class RetrySchedule(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
{
    public TimeSpan BaseDelay { get; } = baseDelay;

    public TimeSpan MaxDelay { get; } = maxDelay;

    /// <param name="failures">How many attempts have failed so far (1 after the first failure).</param>
    public TimeSpan DelayAfter(int failures)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(failures, 1);
        // The sequence's n-th element grows like base * 2^n; past ~30 steps it is capped anyway.
        var steps = Math.Min(failures, 30);
        var delay = Backoff.DecorrelatedJitterBackoffV2(BaseDelay, steps, random.Next()).Last();
        return delay < MaxDelay ? delay : MaxDelay;
    }
}
