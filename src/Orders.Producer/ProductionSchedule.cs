namespace Orders.Producer;

/// <summary>
/// When the next order goes out: at a fixed rate, order n is due n / rate after the start (so a
/// slow moment is caught up, never turned into drift); nothing is due at or past --duration (by the
/// schedule, or by the clock when the client takes the orders slower than the rate) or beyond
/// --count. Pure arithmetic on elapsed time, so it is tested without a clock.
/// </summary>
public sealed class ProductionSchedule(double? rate, long? count, TimeSpan? duration)
{
    /// <summary>The longest wait <see cref="WaitBeforeNext"/> returns: a longer one is waited in steps, the schedule asked again after each.</summary>
    public static readonly TimeSpan LongestWait = TimeSpan.FromDays(1);

    /// <summary>Whether <see cref="WaitBeforeNext"/> looks at the elapsed time at all (a rate or a duration): when not, the caller need not read the clock per order.</summary>
    public bool UsesElapsed => rate is not null || duration is not null;

    /// <param name="sent">Orders already sent.</param>
    /// <param name="elapsed">Time since the start.</param>
    /// <returns>How long to wait before asking again (the next order is due when the wait is zero), or null when production is over.</returns>
    public TimeSpan? WaitBeforeNext(long sent, TimeSpan elapsed)
    {
        if (count is { } limit && sent >= limit)
        {
            return null;
        }

        if (rate is not { } perSecond)
        {
            return duration is { } d && elapsed >= d ? null : TimeSpan.Zero;
        }

        var dueSeconds = sent / perSecond;
        if (duration is { } end && (dueSeconds >= end.TotalSeconds || elapsed >= end))
        {
            return null;
        }

        if (dueSeconds - elapsed.TotalSeconds >= LongestWait.TotalSeconds)
        {
            // A rate of one order a month, say: no timer takes the whole wait (nor a TimeSpan, at some rates).
            return LongestWait;
        }

        var dueAt = TimeSpan.FromSeconds(dueSeconds);
        return dueAt > elapsed ? dueAt - elapsed : TimeSpan.Zero;
    }
}
