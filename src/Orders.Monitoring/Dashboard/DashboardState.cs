using Orders.Processor.Aggregates;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Monitoring.Dashboard;

/// <summary>What the dashboard shows, as one JSON document per update (and at <c>/api/state</c>).</summary>
public sealed record DashboardState(
    DateTimeOffset At,
    string Topic,
    string Group,
    string Status,
    long Processed,
    double? Rate,
    long Retried,
    long RegistryWaits,
    long Honoured,
    long SkippedByRetention,
    IReadOnlyDictionary<string, long> DeadLettered,
    long CheckpointsWritten,
    long CheckpointsRestored,
    Figures Overall,
    IReadOnlyList<ProductFigures> Products,
    int MoreProducts,
    IReadOnlyList<MinuteFigures> Minutes,
    IReadOnlyList<PartitionFigures> Partitions,
    int Restoring,
    IReadOnlyList<RecentDeadLetter> RecentDeadLetters,
    HandlerLoad Load);

public sealed record Figures(long Count, double? Mean, double? Min, double? Max)
{
    public static Figures Of(PriceStatistics stats) =>
        stats.Count == 0 ? new(0, null, null, null) : new(stats.Count, stats.Mean, stats.Min, stats.Max);
}

public sealed record ProductFigures(string Product, long Count, double? Mean, double? Min, double? Max);

/// <param name="Start">The minute's start, event time, in unix milliseconds.</param>
public sealed record MinuteFigures(long Start, long Count, double? Mean);

/// <param name="Lag">Records not yet in the state; null until librdkafka's statistics tell the partition's end.</param>
public sealed record PartitionFigures(int Partition, long NextOffset, long CheckpointedOffset, long Count, long? Lag);

/// <summary>Builds <see cref="DashboardState"/> from the processor's own counters and view: the same figures the summary and /metrics read.</summary>
public sealed class DashboardFeed(ProcessorStatus processor, ProcessorOptions options, TimeProvider time)
{
    /// <summary>Rows of the product table; the rest are counted, not listed (product names come from producers, unbounded).</summary>
    public const int MaxProducts = 100;

    private readonly RecentRate _rate = new(time, TimeSpan.FromSeconds(5));

    public DashboardState Current()
    {
        var view = processor.View;
        var counters = view.Counters;
        var processed = counters.Processed;
        var aggregates = view.Aggregates;
        var products = aggregates.Products
            .OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(MaxProducts)
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProductFigures(p.Key, p.Value.Count, p.Value.Mean, p.Value.Min, p.Value.Max))
            .ToList();
        var partitions = view.Partitions.OrderBy(p => p.Key)
            .Select(p => new PartitionFigures(p.Key, p.Value.NextOffset, p.Value.CheckpointedOffset, p.Value.Overall.Count, processor.Statistics.LagOf(p.Key, p.Value.NextOffset)))
            .ToList();
        return new DashboardState(
            time.GetUtcNow(),
            options.Topic,
            options.GroupId,
            Status(view),
            processed,
            _rate.Sample(processed) is { } rate ? Math.Round(rate, 1) : null,
            counters.Retried,
            counters.RegistryWaits,
            counters.Honoured,
            counters.SkippedByRetention,
            counters.DeadLetteredByReason,
            counters.CheckpointsWritten,
            counters.CheckpointsRestored,
            Figures.Of(aggregates.Overall),
            products,
            aggregates.Products.Count - products.Count,
            [.. aggregates.Minutes.OrderBy(m => m.Key).Select(m => new MinuteFigures(m.Key, m.Value.Count, m.Value.Mean))],
            partitions,
            view.Restoring,
            processor.RecentDeadLetters.Snapshot(),
            view.Load);
    }

    private static string Status(ProcessorView view) => view switch
    {
        { Restoring: > 0 } => "restoring",
        { Partitions.Count: > 0 } => "processing",
        { EverAssigned: true } => "no-partitions",
        _ => "waiting",
    };
}
