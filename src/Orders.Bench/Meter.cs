using System.Diagnostics;

namespace Orders.Bench;

/// <summary>This process's clock, CPU time and allocations at one moment; two of them give a run's figures.</summary>
internal readonly record struct Snapshot(long Timestamp, TimeSpan Cpu, long Allocated)
{
    public static Snapshot Take()
    {
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        using var process = Process.GetCurrentProcess();
        return new Snapshot(Stopwatch.GetTimestamp(), process.TotalProcessorTime, allocated);
    }

    /// <summary>From this snapshot to <paramref name="end"/>, per order.</summary>
    public SideRun To(Snapshot end, long counted, long orders) => new(
        counted,
        Stopwatch.GetElapsedTime(Timestamp, end.Timestamp).TotalSeconds,
        (end.Cpu - Cpu).TotalMicroseconds / orders,
        (double)(end.Allocated - Allocated) / orders);
}

/// <summary>One run of one side: what it counted, how long it took, CPU and allocations per order (null where not this process's).</summary>
internal sealed record SideRun(long Counted, double Seconds, double? CpuMicrosPerOrder, double? AllocatedBytesPerOrder, LatencyMs? LatencyMs = null)
{
    /// <summary>Of the orders counted, those dead-lettered (the handler mode's retries exhausted).</summary>
    public long? DeadLettered { get; init; }
}
