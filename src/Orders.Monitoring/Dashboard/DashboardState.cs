using Orders.Processor.Aggregates;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

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
    long Count,
    IReadOnlyList<CurrencyFigures> Currencies,
    IReadOnlyList<PartitionFigures> Partitions,
    int Restoring,
    IReadOnlyList<RecentDeadLetter> RecentDeadLetters,
    HandlerLoad Load);

public sealed record Figures(long Count, double? Mean, decimal? Min, decimal? Max)
{
    public static Figures Of(PriceStatistics stats) =>
        stats.Count == 0 ? new(0, null, null, null) : new(stats.Count, stats.Mean, stats.Min, stats.Max);
}

/// <summary>One currency's orders: every amount of the dashboard is per currency, never across them.</summary>
/// <param name="Unsplit">What checkpoints written before per-currency aggregates counted: prices only, no currency.</param>
public sealed record CurrencyFigures(
    string Currency, bool Unsplit, long Count, Figures Price, Figures OrderValue, IReadOnlyList<ProductFigures> Products, int MoreProducts, IReadOnlyList<MinuteFigures> Minutes);

public sealed record ProductFigures(string Product, long Count, double? Mean, decimal? Min, decimal? Max, double? OrderValue);

/// <param name="Start">The minute's start, event time, in unix milliseconds.</param>
public sealed record MinuteFigures(long Start, long Count, double? Mean, double? OrderValue);

/// <param name="Lag">Records not yet in the state; null until librdkafka's statistics tell the partition's end.</param>
/// <param name="Held">Why the partition may not fetch now (<c>checkpoint, backpressure</c>), or null while it fetches.</param>
public sealed record PartitionFigures(int Partition, long NextOffset, long CheckpointedOffset, long Count, long? Lag, string? Held);

/// <summary>Builds <see cref="DashboardState"/> from the processor's own counters and view: the same figures the summary and /metrics read.</summary>
public sealed class DashboardFeed(ProcessorStatus processor, ProcessorOptions options, TimeProvider time)
{
    /// <summary>Rows of the product table; the rest are counted, not listed (product names come from producers, unbounded).</summary>
    public const int MaxProducts = 100;

    /// <summary>How long one serialized state serves every client that asks, while the processor's view is the same.</summary>
    public static readonly TimeSpan SharedFor = TimeSpan.FromSeconds(1);

    private readonly RecentRate _rate = new(time, TimeSpan.FromSeconds(5));
    private readonly Lock _shared = new();
    private (ProcessorView View, long At, string Json)? _last;

    /// <summary>
    /// The current state as JSON, made once for every client that asks while the processor's view is the
    /// same and for at most <see cref="SharedFor"/>: each open page (<c>/events</c>) asked for a state of
    /// its own every interval, so the cost of the pages grew with their number (30 pages: the processor
    /// at 74% of a core measured, with a few thousand currencies).
    /// </summary>
    public string CurrentJson()
    {
        lock (_shared)
        {
            var view = processor.View;
            if (_last is { } last && ReferenceEquals(last.View, view) && time.GetElapsedTime(last.At) < SharedFor)
            {
                return last.Json;
            }

            var json = System.Text.Json.JsonSerializer.Serialize(Current(view), Json.Options);
            _last = (view, time.GetTimestamp(), json);
            return json;
        }
    }

    public DashboardState Current() => Current(processor.View);

    /// <summary>The state of one view of the processor (the one a shared serialization is kept for).</summary>
    private DashboardState Current(ProcessorView view)
    {
        var counters = view.Counters;
        var processed = counters.Processed;
        var aggregates = view.Aggregates;
        var currencies = aggregates.Currencies
            .OrderByDescending(c => c.Value.Overall.Count).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => Currency(c.Key, c.Value, unsplit: false))
            .ToList();
        if (aggregates.Unsplit is { } unsplit)
        {
            currencies.Add(Currency(AggregateData.UnsplitName, unsplit, unsplit: true));
        }

        var partitions = view.Partitions.OrderBy(p => p.Key)
            .Select(p => new PartitionFigures(
                p.Key, p.Value.NextOffset, p.Value.CheckpointedOffset, p.Value.Count, processor.Statistics.LagOf(p.Key, p.Value.NextOffset), p.Value.Held == FetchHold.None ? null : p.Value.Held.Describe()))
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
            aggregates.Count,
            currencies,
            partitions,
            view.Restoring,
            processor.RecentDeadLetters.Snapshot(),
            view.Load);
    }

    private static CurrencyFigures Currency(string currency, CurrencyData data, bool unsplit)
    {
        var products = data.Products
            .OrderByDescending(p => p.Value.Count).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(MaxProducts)
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => new ProductFigures(p.Key, p.Value.Count, p.Value.Price.Mean, Min(p.Value.Price), Max(p.Value.Price), p.Value.Value.Mean))
            .ToList();
        return new CurrencyFigures(
            currency,
            unsplit,
            data.Overall.Count,
            Figures.Of(data.Overall.Price),
            Figures.Of(data.Overall.Value),
            products,
            data.Products.Count - products.Count,
            [.. data.Minutes.OrderBy(m => m.Key).Select(m => new MinuteFigures(m.Key, m.Value.Count, m.Value.Price.Mean, m.Value.Value.Mean))]);
    }

    private static decimal? Min(PriceStatistics stats) => stats.Count == 0 ? null : stats.Min;

    private static decimal? Max(PriceStatistics stats) => stats.Count == 0 ? null : stats.Max;

    private static string Status(ProcessorView view) => view.Phase switch
    {
        ProcessorPhase.Stopping => "stopping",
        ProcessorPhase.Restoring => "restoring",
        ProcessorPhase.Processing => "processing",
        ProcessorPhase.NoPartitions => "no-partitions",
        _ => "waiting",
    };
}
