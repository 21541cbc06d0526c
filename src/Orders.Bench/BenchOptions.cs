namespace Orders.Bench;

public sealed class BenchOptions
{
    public required string BootstrapServers { get; init; }

    public required string SchemaRegistryUrl { get; init; }

    /// <summary>Orders of the backlog each drain run reads (pre-filled once per repeat, read by every side).</summary>
    public long DrainCount { get; init; } = 400_000;

    /// <summary>Orders each produce run publishes.</summary>
    public long ProduceCount { get; init; } = 1_000_000;

    /// <summary>Runs of each side, alternating, the order of the sides rotating from one repeat to the next.</summary>
    public int Repeats { get; init; } = 5;

    /// <summary>
    /// Partitions of every topic the bench creates. The local stack keeps ~5 MiB per partition: 400,000
    /// orders of ~120 bytes (key, value, record overhead) need at least 10; 16 leave room.
    /// </summary>
    public int Partitions { get; init; } = 16;

    /// <summary>The fixed rate at which end-to-end latency is measured.</summary>
    public double LatencyRate { get; init; } = 20_000;

    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The first part of each latency run is not measured: a fresh consumer's first fetches (offset
    /// lookups, fetch sessions) would otherwise weigh on the percentiles of one side more than the other's.
    /// </summary>
    public TimeSpan LatencyWarmUp { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Orders of an unreported drain and produce run of each side first, so that JIT and connection set-up
    /// are not measured. At 20,000 the warm-up ended before .NET's tiered compilation had promoted the
    /// publisher's and the processor's loops (it waits 100 ms before it compiles again): their first
    /// measured runs came out at about half the speed of the later ones.
    /// </summary>
    public long WarmUpCount { get; init; } = 200_000;

    /// <summary>Longest wait without progress before a run fails its count check.</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>kcat's path, or null to look for it on PATH; the kcat side is left out when it is not found.</summary>
    public string? KcatPath { get; init; }

    public bool UseKcat { get; init; } = true;

    /// <summary>
    /// Starts tracing (exporters listening to the publisher's and the processor's spans) for the
    /// traced sides, <c>publisher-traced</c> and <c>processor-traced</c>, and stops it after each;
    /// null leaves those sides out. Every other side runs with no listener at all, as with no endpoint.
    /// </summary>
    public Func<IDisposable?>? StartTracing { get; init; }

    /// <summary>The sampler of <see cref="StartTracing"/>, for the report.</summary>
    public string? TracingSampler { get; init; }

    /// <summary>How far above its ceiling the pipeline may measure before that is called a bench error rather than noise.</summary>
    public double Noise { get; init; } = 0.10;
}
