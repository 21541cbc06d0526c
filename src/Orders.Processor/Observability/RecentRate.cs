namespace Orders.Processor.Observability;

/// <summary>
/// A rate over the last few seconds from samples of a growing count (processed orders), for the
/// live views: the average since start hides a stall, one interval's delta jumps about.
/// Thread-safe; time from the injected clock.
/// </summary>
public sealed class RecentRate(TimeProvider time, TimeSpan window)
{
    private readonly Queue<(long At, long Count)> _samples = new();
    private readonly Lock _lock = new();

    /// <summary>Adds a sample of the count now and returns the rate over the window (per second); null until there is an earlier sample to compare with.</summary>
    public double? Sample(long count)
    {
        var now = time.GetTimestamp();
        lock (_lock)
        {
            _samples.Enqueue((now, count));
            // Keep one sample at or beyond the window's start, so the rate spans the whole window.
            while (_samples.Count > 2 && time.GetElapsedTime(ElementAt(1).At, now) >= window)
            {
                _samples.Dequeue();
            }

            var (oldestAt, oldestCount) = _samples.Peek();
            var seconds = time.GetElapsedTime(oldestAt, now).TotalSeconds;
            return seconds <= 0 ? null : Math.Max(0, count - oldestCount) / seconds;
        }
    }

    private (long At, long Count) ElementAt(int index) => _samples.ElementAt(index);
}
