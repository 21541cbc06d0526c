namespace Orders.Hosting;

/// <summary>
/// Due times and deadlines on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>), as timestamps,
/// never on the wall clock. A wall clock stepped back (NTP, a virtual machine restored) would hold retries,
/// restores, checkpoints and revokes for as long as the step; one stepped forward would end them at once
/// (a dead letter's first failure past its time-out, a revoke's deadline gone before it began). The wall
/// clock stays for what is written and shown: a letter's failure time, a checkpoint's. The processor's
/// due times and the restore's reads (<c>PartitionRangeReader</c>) both keep time this way.
/// </summary>
public static class Monotonic
{
    /// <summary>The timestamp <paramref name="delay"/> from now (a negative delay is now).</summary>
    public static long After(this TimeProvider time, TimeSpan delay) => time.GetTimestamp() + Ticks(time, delay);

    /// <summary>Whether <paramref name="due"/> has come.</summary>
    public static bool HasCome(this TimeProvider time, long due) => time.GetTimestamp() >= due;

    /// <summary>How long until <paramref name="due"/>, zero once it has come.</summary>
    public static TimeSpan Left(this TimeProvider time, long due) =>
        time.GetTimestamp() is var now && now < due ? Span(time, due - now) : TimeSpan.Zero;

    /// <summary>A difference of two timestamps of <paramref name="time"/> as a time span.</summary>
    public static TimeSpan Span(TimeProvider time, long ticks) => TimeSpan.FromSeconds((double)ticks / time.TimestampFrequency);

    private static long Ticks(TimeProvider time, TimeSpan delay)
    {
        if (delay <= TimeSpan.Zero)
        {
            return 0;
        }

        // Clamped: a delay of TimeSpan.MaxValue is "never", not an overflow into the past.
        var ticks = delay.TotalSeconds * time.TimestampFrequency;
        return ticks >= long.MaxValue / 4 ? long.MaxValue / 4 : (long)ticks;
    }
}
