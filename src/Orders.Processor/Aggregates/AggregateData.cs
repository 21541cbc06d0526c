using Orders.Contracts;

namespace Orders.Processor.Aggregates;

/// <summary>
/// An immutable copy of running statistics: of one partition (inside a checkpoint), or of many
/// combined. Every figure of money is kept per currency (a mean over prices of different currencies
/// means nothing), with the unit price and the order value. What checkpoints written before
/// per-currency aggregates held is kept apart in <see cref="Unsplit"/>: never dropped, never
/// counted as a currency. Every part merges exactly, so any set of partitions, from any processor
/// instances, combines into one global figure.
/// </summary>
public sealed record AggregateData(
    IReadOnlyDictionary<string, CurrencyData> Currencies,
    CurrencyData? Unsplit,
    IReadOnlyDictionary<string, long> DeadLettered,
    long SkippedByRetention,
    long LateOrders)
{
    /// <summary>How <see cref="Unsplit"/> is named wherever it is shown.</summary>
    public const string UnsplitName = "no currency recorded";

    public const string UnsplitNote =
        "orders counted by checkpoints written before per-currency aggregates: their currencies and quantities were not recorded, so they are kept apart, prices only";

    public static AggregateData Empty { get; } = new(
        new Dictionary<string, CurrencyData>(StringComparer.Ordinal),
        null,
        new Dictionary<string, long>(StringComparer.Ordinal),
        0,
        0);

    public long DeadLetteredTotal => DeadLettered.Values.Sum();

    /// <summary>Orders counted, of every currency (a count, never an amount, may be added across them).</summary>
    public long Count => Currencies.Values.Sum(c => c.Overall.Count) + (Unsplit?.Overall.Count ?? 0);

    /// <summary>The newest minute with orders of any currency, by event time (unix milliseconds of its start), if any.</summary>
    public long? NewestMinute => Currencies.Values.Select(c => c.NewestMinute).Append(Unsplit?.NewestMinute).Max();

    /// <summary>
    /// Sums everything, currency by currency. Minutes are kept for the newest
    /// <paramref name="windowMinutes"/> of the combined data: a partition that lags behind others
    /// contributes its old minutes only while they are still within the span.
    /// </summary>
    public static AggregateData Combine(IEnumerable<AggregateData> parts, int windowMinutes)
    {
        var currencies = new SortedDictionary<string, List<CurrencyData>>(StringComparer.Ordinal);
        var unsplit = new List<CurrencyData>();
        var deadLettered = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long skipped = 0, late = 0;
        foreach (var part in parts)
        {
            foreach (var (currency, data) in part.Currencies)
            {
                if (!currencies.TryGetValue(currency, out var list))
                {
                    list = [];
                    currencies[currency] = list;
                }

                list.Add(data);
            }

            if (part.Unsplit is { } old)
            {
                unsplit.Add(old);
            }

            foreach (var (reason, count) in part.DeadLettered)
            {
                deadLettered[reason] = deadLettered.GetValueOrDefault(reason) + count;
            }

            skipped += part.SkippedByRetention;
            late += part.LateOrders;
        }

        var combined = currencies.ToDictionary(c => c.Key, c => Merge(c.Value), StringComparer.Ordinal);
        var newest = combined.Values.Select(c => c.NewestMinute).Max();
        if (newest is { } minute)
        {
            var oldestKept = minute - ((windowMinutes - 1) * EventTimeWindows.MinuteMs);
            combined = combined.ToDictionary(c => c.Key, c => c.Value with { Minutes = c.Value.Minutes.Where(m => m.Key >= oldestKept).ToDictionary() }, StringComparer.Ordinal);
        }

        return new AggregateData(combined, unsplit.Count == 0 ? null : Merge(unsplit), deadLettered, skipped, late);
    }

    private static CurrencyData Merge(IReadOnlyList<CurrencyData> parts)
    {
        var overall = OrderMeasures.Empty;
        var products = new SortedDictionary<string, OrderMeasures>(StringComparer.Ordinal);
        var minutes = new SortedDictionary<long, OrderMeasures>();
        foreach (var part in parts)
        {
            overall = overall.Combine(part.Overall);
            foreach (var (product, measures) in part.Products)
            {
                products[product] = products.TryGetValue(product, out var sum) ? sum.Combine(measures) : measures;
            }

            foreach (var (minute, measures) in part.Minutes)
            {
                minutes[minute] = minutes.TryGetValue(minute, out var sum) ? sum.Combine(measures) : measures;
            }
        }

        return new CurrencyData(overall, products, minutes);
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
