using Orders.Contracts;

namespace Orders.Processor.Aggregates;

/// <summary>
/// An immutable copy of running statistics: of one partition (inside a checkpoint), or of many
/// combined. Every part merges exactly, so any set of partitions, from any processor instances,
/// combines into one global figure.
/// </summary>
public sealed record AggregateData(
    PriceStatistics Overall,
    IReadOnlyDictionary<string, PriceStatistics> Products,
    IReadOnlyDictionary<long, PriceStatistics> Minutes,
    IReadOnlyDictionary<string, long> DeadLettered,
    long SkippedByRetention,
    long LateOrders)
{
    public static AggregateData Empty { get; } = new(
        PriceStatistics.Empty,
        new Dictionary<string, PriceStatistics>(StringComparer.Ordinal),
        new Dictionary<long, PriceStatistics>(),
        new Dictionary<string, long>(StringComparer.Ordinal),
        0,
        0);

    public long DeadLetteredTotal => DeadLettered.Values.Sum();

    /// <summary>The newest minute with orders, by event time (unix milliseconds of its start), if any.</summary>
    public long? NewestMinute => Minutes.Count == 0 ? null : Minutes.Keys.Max();

    /// <summary>
    /// Sums everything. Minutes are kept for the newest <paramref name="windowMinutes"/> of the
    /// combined data: a partition that lags behind others contributes its old minutes only while
    /// they are still within the span.
    /// </summary>
    public static AggregateData Combine(IEnumerable<AggregateData> parts, int windowMinutes)
    {
        var overall = PriceStatistics.Empty;
        var products = new SortedDictionary<string, PriceStatistics>(StringComparer.Ordinal);
        var minutes = new SortedDictionary<long, PriceStatistics>();
        var deadLettered = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long skipped = 0, late = 0;
        foreach (var part in parts)
        {
            overall = overall.Combine(part.Overall);
            foreach (var (product, stats) in part.Products)
            {
                products[product] = products.TryGetValue(product, out var sum) ? sum.Combine(stats) : stats;
            }

            foreach (var (minute, stats) in part.Minutes)
            {
                minutes[minute] = minutes.TryGetValue(minute, out var sum) ? sum.Combine(stats) : stats;
            }

            foreach (var (reason, count) in part.DeadLettered)
            {
                deadLettered[reason] = deadLettered.GetValueOrDefault(reason) + count;
            }

            skipped += part.SkippedByRetention;
            late += part.LateOrders;
        }

        if (minutes.Count > 0)
        {
            var oldestKept = minutes.Keys.Max() - ((windowMinutes - 1) * EventTimeWindows.MinuteMs);
            foreach (var minute in minutes.Keys.Where(m => m < oldestKept).ToList())
            {
                minutes.Remove(minute);
            }
        }

        return new AggregateData(overall, products, minutes, deadLettered, skipped, late);
    }
}

/// <summary>How orders map to per-minute windows by event time.</summary>
public static class EventTimeWindows
{
    public const long MinuteMs = 60_000;

    /// <summary>
    /// The order's event time: its <c>createdAt</c>, or, where the writer did not know it (the
    /// earliest schema has no such field, so it reads as the epoch), the record's timestamp.
    /// </summary>
    public static long EventTimeMs(Order order, long recordTimestampMs)
    {
        var created = new DateTimeOffset(DateTime.SpecifyKind(order.CreatedAt, DateTimeKind.Utc)).ToUnixTimeMilliseconds();
        return created > 0 ? created : recordTimestampMs;
    }

    public static long MinuteOf(long eventTimeMs) => eventTimeMs - (((eventTimeMs % MinuteMs) + MinuteMs) % MinuteMs);
}
