using System.Globalization;

namespace Orders.Bench;

/// <summary>
/// The CPU time of each of this process's threads, as Linux accounts it in <c>/proc/self/task</c>:
/// two of them say which threads a run's CPU went to, exactly over the run, with nothing attached to
/// the process (a sampling profiler slows what it samples, and its samples must be cut to the run
/// afterwards, by timestamps). Linux only; elsewhere empty.
/// </summary>
/// <remarks>
/// Linux counts in clock ticks (USER_HZ, 100 per second on every architecture .NET runs on), so a
/// thread's figure is good to 10 ms; <see cref="System.Diagnostics.Process.TotalProcessorTime"/> reads
/// the same counters. A thread that ended between the two readings takes its time with it: the
/// process's total minus the threads' is reported as the remainder.
/// </remarks>
public sealed class ThreadTimes
{
    public const double TicksPerSecond = 100;

    private const string Tasks = "/proc/self/task";

    private readonly Dictionary<int, (string Name, long Ticks)> _threads;

    private ThreadTimes(Dictionary<int, (string Name, long Ticks)> threads) => _threads = threads;

    /// <summary>This process's threads now (none where there is no <c>/proc/self/task</c>).</summary>
    public static ThreadTimes Read()
    {
        var stats = new Dictionary<int, string>();
        if (OperatingSystem.IsLinux() && Directory.Exists(Tasks))
        {
            foreach (var directory in Directory.EnumerateDirectories(Tasks))
            {
                try
                {
                    if (int.TryParse(Path.GetFileName(directory), out var id))
                    {
                        stats[id] = File.ReadAllText(Path.Combine(directory, "stat"));
                    }
                }
                catch (IOException)
                {
                    // The thread ended while being read.
                }
            }
        }

        return Of(stats);
    }

    /// <param name="stats">Each thread's id and its <c>stat</c> line; lines that do not parse are left out.</param>
    public static ThreadTimes Of(IReadOnlyDictionary<int, string> stats) =>
        new(stats.Select(s => (s.Key, Thread: Parse(s.Value))).Where(s => s.Thread is not null).ToDictionary(s => s.Key, s => s.Thread!.Value));

    /// <summary>
    /// A line of <c>/proc/[pid]/task/[tid]/stat</c>: the name in parentheses (up to 15 bytes, itself
    /// possibly holding spaces and parentheses, so read up to the last one), then user time and system
    /// time as the 12th and 13th fields after it (the 14th and 15th of the line).
    /// </summary>
    public static (string Name, long Ticks)? Parse(string stat)
    {
        var open = stat.IndexOf('(', StringComparison.Ordinal);
        var close = stat.LastIndexOf(')');
        if (open < 0 || close < open)
        {
            return null;
        }

        var fields = stat[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length > 12
            && long.TryParse(fields[11], NumberStyles.None, CultureInfo.InvariantCulture, out var user)
            && long.TryParse(fields[12], NumberStyles.None, CultureInfo.InvariantCulture, out var system)
            ? (stat[(open + 1)..close], user + system)
            : null;
    }

    /// <summary>
    /// Microseconds of CPU per order from this reading to <paramref name="end"/>, by thread name
    /// (threads of one name added up; names with a number, such as librdkafka's <c>rdk:broker1</c>,
    /// kept apart), busiest first, with <c>(ended)</c> for what the process spent beyond its threads'.
    /// </summary>
    public IReadOnlyDictionary<string, double> To(ThreadTimes end, TimeSpan processCpu, long orders)
    {
        var byName = new Dictionary<string, long>();
        foreach (var (id, (name, ticks)) in end._threads)
        {
            var spent = ticks - (_threads.TryGetValue(id, out var before) ? before.Ticks : 0);
            if (spent > 0)
            {
                byName[name] = byName.GetValueOrDefault(name) + spent;
            }
        }

        double PerOrder(double ticks) => Math.Round(ticks / TicksPerSecond * 1e6 / orders, 3);
        var result = byName.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => PerOrder(p.Value));
        if (byName.Count > 0)
        {
            var ended = (processCpu.TotalSeconds * TicksPerSecond) - byName.Values.Sum();
            if (ended >= 1)
            {
                result["(ended)"] = PerOrder(ended);
            }
        }

        return result;
    }
}
