using System.Diagnostics;

namespace Orders.Bench;

/// <summary>This process's clock, CPU time and allocations at one moment; two of them give a run's figures.</summary>
internal readonly record struct Snapshot(long Timestamp, TimeSpan Cpu, long Allocated, ThreadTimes? Threads, GcCounts Gc)
{
    public static Snapshot Take()
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        using var process = Process.GetCurrentProcess();
        return new Snapshot(Stopwatch.GetTimestamp(), process.TotalProcessorTime, allocated, ThreadTimes.Read(), GcCounts.Read());
    }

    /// <summary>From this snapshot to <paramref name="end"/>, per order.</summary>
    public SideRun To(Snapshot end, long counted, long orders) => new(
        counted,
        Stopwatch.GetElapsedTime(Timestamp, end.Timestamp).TotalSeconds,
        (end.Cpu - Cpu).TotalMicroseconds / orders,
        (double)(end.Allocated - Allocated) / orders)
    {
        CpuByThread = end.Threads is { } threads ? Threads?.To(threads, end.Cpu - Cpu, orders) : null,
        Gc = Gc.To(end.Gc, orders),
    };
}

/// <summary>The garbage collections so far, by generation, and the time the runtime was paused for them.</summary>
internal readonly record struct GcCounts(int Gen0, int Gen1, int Gen2, TimeSpan Paused)
{
    public static GcCounts Read() => new(GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());

    /// <summary>Collections of each generation from this reading to <paramref name="end"/> (a collection of one counts in those below it too), and the pause per order.</summary>
    public GcFigures To(GcCounts end, long orders) =>
        new(end.Gen0 - Gen0, end.Gen1 - Gen1, end.Gen2 - Gen2, Math.Round((end.Paused - Paused).TotalMicroseconds / orders, 3));
}

/// <summary>One run of one side: what it counted, how long it took, CPU and allocations per order (null where not this process's).</summary>
internal sealed record SideRun(long Counted, double Seconds, double? CpuMicrosPerOrder, double? AllocatedBytesPerOrder, LatencyMs? LatencyMs = null)
{
    /// <summary>Of the orders counted, those dead-lettered (the handler mode's retries exhausted).</summary>
    public long? DeadLettered { get; init; }

    /// <summary>CPU per order by thread name, where this process's threads did the work (see <see cref="ThreadTimes"/>).</summary>
    public IReadOnlyDictionary<string, double>? CpuByThread { get; init; }

    /// <summary>The collections during the run, and the pause per order.</summary>
    public GcFigures? Gc { get; init; }
}
