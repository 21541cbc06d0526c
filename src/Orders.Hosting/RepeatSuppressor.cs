using System.Text.RegularExpressions;

namespace Orders.Hosting;

/// <summary>
/// Turns a flood of identical messages into one line and a periodic count. The first occurrence
/// of a message passes; identical ones within the window are counted instead; when the window
/// ends with a count, <c>onRepeated</c> reports it ("... repeated 240 times in the last 60 s")
/// and a new window starts, so a message that keeps coming costs one line per window and one
/// that stops is summarised once, at the end of its window. A window with no repeats forgets
/// the message: when it comes back later, it is logged again in full.
/// </summary>
/// <remarks>
/// Time comes from the injected <see cref="TimeProvider"/>, including the timer that reports
/// the counts, so tests drive it with a fake clock. Thread-safe: librdkafka calls log and error
/// handlers from its own threads.
/// </remarks>
/// <typeparam name="TEntry">What is kept of the first occurrence, to report the repeats with.</typeparam>
public sealed class RepeatSuppressor<TEntry> : IDisposable
{
    /// <summary>Beyond this many distinct messages in one window, new ones pass unsuppressed rather than grow the table.</summary>
    public const int MaxTracked = 1024;

    private readonly TimeProvider _time;
    private readonly Action<TEntry, int, TimeSpan> _onRepeated;
    private readonly Dictionary<string, Tracked> _tracked = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly ITimer _timer;
    private bool _timerArmed;
    private bool _disposed;

    /// <param name="window">How long identical messages are counted before their count is reported.</param>
    /// <param name="onRepeated">Reports a count: the first occurrence's entry, how many were suppressed, and over how long.</param>
    public RepeatSuppressor(TimeProvider time, TimeSpan window, Action<TEntry, int, TimeSpan> onRepeated)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero);
        _time = time;
        Window = window;
        _onRepeated = onRepeated;
        _timer = time.CreateTimer(_ => ReportDue(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Window { get; }

    /// <summary>
    /// Whether this occurrence should be written. Messages are identical when their keys are;
    /// <see cref="RepeatSuppressor.KeyOf"/> makes a key that ignores the varying timings librdkafka appends.
    /// </summary>
    public bool ShouldLog(string key, TEntry entry)
    {
        List<(TEntry, int, TimeSpan)>? due = null;
        bool log;
        lock (_lock)
        {
            if (_disposed)
            {
                return true;
            }

            var now = _time.GetTimestamp();
            if (_tracked.TryGetValue(key, out var tracked))
            {
                if (_time.GetElapsedTime(tracked.WindowStart, now) < Window)
                {
                    tracked.Suppressed++;
                    return false;
                }

                // The timer is late (or not yet run): report the finished window here, in order.
                if (tracked.Suppressed > 0)
                {
                    (due ??= []).Add((tracked.First, tracked.Suppressed, _time.GetElapsedTime(tracked.WindowStart, now)));
                }

                _tracked.Remove(key);
            }

            log = true;
            if (_tracked.Count < MaxTracked)
            {
                _tracked[key] = new Tracked(entry, now);
                ArmTimer();
            }
        }

        Report(due);
        return log;
    }

    /// <summary>Reports every count still pending, e.g. when the client closes.</summary>
    public void Flush()
    {
        List<(TEntry, int, TimeSpan)> due = [];
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            foreach (var tracked in _tracked.Values)
            {
                if (tracked.Suppressed > 0)
                {
                    due.Add((tracked.First, tracked.Suppressed, _time.GetElapsedTime(tracked.WindowStart, now)));
                }
            }

            _tracked.Clear();
        }

        Report(due);
    }

    public void Dispose()
    {
        Flush();
        lock (_lock)
        {
            _disposed = true;
        }

        _timer.Dispose();
    }

    private void ReportDue()
    {
        List<(TEntry, int, TimeSpan)> due = [];
        lock (_lock)
        {
            _timerArmed = false;
            var now = _time.GetTimestamp();
            List<string>? forget = null;
            foreach (var (key, tracked) in _tracked)
            {
                if (_time.GetElapsedTime(tracked.WindowStart, now) < Window)
                {
                    continue;
                }

                if (tracked.Suppressed > 0)
                {
                    due.Add((tracked.First, tracked.Suppressed, Window));
                    tracked.Suppressed = 0;
                    tracked.WindowStart = now;
                }
                else
                {
                    (forget ??= []).Add(key);
                }
            }

            foreach (var key in forget ?? [])
            {
                _tracked.Remove(key);
            }

            if (_tracked.Count > 0 && !_disposed)
            {
                ArmTimer();
            }
        }

        Report(due);
    }

    // Called under the lock. One timer for all keys: it fires when the oldest window ends.
    private void ArmTimer()
    {
        if (_timerArmed)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var due = Window;
        foreach (var tracked in _tracked.Values)
        {
            var left = Window - _time.GetElapsedTime(tracked.WindowStart, now);
            if (left < due)
            {
                due = left;
            }
        }

        _timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        _timerArmed = true;
    }

    // Outside the lock: the callback logs, and a logger may block.
    private void Report(List<(TEntry First, int Count, TimeSpan Over)>? due)
    {
        foreach (var (first, count, over) in due ?? [])
        {
            _onRepeated(first, count, over);
        }
    }

    private sealed class Tracked(TEntry first, long windowStart)
    {
        public TEntry First { get; } = first;

        public long WindowStart { get; set; } = windowStart;

        public int Suppressed { get; set; }
    }
}

/// <summary>Keys for <see cref="RepeatSuppressor{TEntry}"/>.</summary>
public static partial class RepeatSuppressor
{
    /// <summary>
    /// A key under which occurrences of the same message match: durations ("after 12ms",
    /// "in 1.5s") and librdkafka's own "N identical error(s) suppressed" are taken out.
    /// </summary>
    public static string KeyOf(string message) =>
        LibrdkafkaSuppressed().Replace(Duration().Replace(message, "#"), "");

    [GeneratedRegex(@"\b\d+(\.\d+)?\s?(ms|us|s)\b", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();

    [GeneratedRegex(@",?\s*\d+ identical error\(s\) suppressed", RegexOptions.CultureInvariant)]
    private static partial Regex LibrdkafkaSuppressed();
}
