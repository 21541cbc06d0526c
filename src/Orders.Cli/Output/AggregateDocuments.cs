using System.Globalization;
using Orders.Processor.Aggregates;

namespace Orders.Cli.Output;

/// <summary>
/// Running statistics as JSON-ready dictionaries and as text, for summaries and <c>orders stats</c>:
/// every amount per currency (unit price and order value), never across currencies; what
/// checkpoints written before per-currency aggregates counted apart, under its own name.
/// </summary>
internal static class AggregateDocuments
{
    /// <summary>Count, exact sum (a decimal string: every digit kept), mean, min, max.</summary>
    public static Dictionary<string, object?> Stats(PriceStatistics stats) => new()
    {
        ["count"] = stats.Count,
        ["sum"] = stats.Sum.ToString(CultureInfo.InvariantCulture),
        ["mean"] = stats.Mean,
        ["min"] = stats.Count == 0 ? null : stats.Min,
        ["max"] = stats.Count == 0 ? null : stats.Max,
    };

    /// <summary>One currency's orders: count, unit price, order value.</summary>
    public static Dictionary<string, object?> Measures(OrderMeasures measures) => new()
    {
        ["count"] = measures.Count,
        ["price"] = Stats(measures.Price),
        ["orderValue"] = Stats(measures.Value),
    };

    /// <summary>The aggregate's own keys: count, currencies, unsplit (when there is such data), deadLettered, skippedByRetention, lateOrders.</summary>
    public static void AddTo(Dictionary<string, object?> document, AggregateData data)
    {
        document["count"] = data.Count;
        document["currencies"] = data.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => Currency(c.Value));
        if (data.Unsplit is { } unsplit)
        {
            var old = Currency(unsplit);
            old.Remove("orderValue");
            old["note"] = AggregateData.UnsplitNote;
            document["unsplit"] = old;
        }

        document["deadLettered"] = new Dictionary<string, long>(data.DeadLettered) { ["total"] = data.DeadLetteredTotal };
        document["skippedByRetention"] = data.SkippedByRetention;
        document["lateOrders"] = data.LateOrders;
    }

    public static string Format(PriceStatistics stats) => stats.Count == 0
        ? "n/a (no orders)"
        : string.Create(CultureInfo.InvariantCulture, $"mean {stats.Mean:F2} over {stats.Count} (min {stats.Min:F2}, max {stats.Max:F2})");

    public static IEnumerable<string> Lines(AggregateData data, int maxProducts = 50, int maxMinutes = 10)
    {
        if (data.Count == 0)
        {
            yield return "No orders counted yet.";
        }

        foreach (var (currency, stats) in data.Currencies.OrderByDescending(c => c.Value.Overall.Count).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"{currency}: {stats.Overall.Count} orders; unit price {Format(stats.Overall.Price)}; order value {Format(stats.Overall.Value)}");
            foreach (var line in Details(stats, maxProducts, maxMinutes))
            {
                yield return line;
            }
        }

        if (data.Unsplit is { } unsplit)
        {
            yield return $"{AggregateData.UnsplitName} ({AggregateData.UnsplitNote}): unit price {Format(unsplit.Overall.Price)}";
            foreach (var line in Details(unsplit, maxProducts, maxMinutes))
            {
                yield return line;
            }
        }

        if (data.DeadLetteredTotal > 0)
        {
            yield return $"Dead-lettered {data.DeadLetteredTotal}: " + string.Join(", ", data.DeadLettered.Select(p => $"{p.Key} {p.Value}"));
        }

        if (data.SkippedByRetention > 0)
        {
            yield return $"LOST: {data.SkippedByRetention} records were deleted by retention before they were read";
        }
    }

    private static Dictionary<string, object?> Currency(CurrencyData data)
    {
        var document = Measures(data.Overall);
        document["products"] = data.Products.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => Measures(p.Value));
        document["minutes"] = data.Minutes.OrderBy(m => m.Key).Select(m => new Dictionary<string, object?>
        {
            ["minute"] = DateTimeOffset.FromUnixTimeMilliseconds(m.Key).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
            ["count"] = m.Value.Count,
            ["price"] = new Dictionary<string, object?> { ["mean"] = m.Value.Price.Mean },
            ["orderValue"] = new Dictionary<string, object?> { ["mean"] = m.Value.Value.Mean },
        }).ToList();
        return document;
    }

    private static IEnumerable<string> Details(CurrencyData data, int maxProducts, int maxMinutes)
    {
        foreach (var (product, stats) in data.Products.OrderBy(p => p.Key, StringComparer.Ordinal).Take(maxProducts))
        {
            yield return $"  {product,-18} {Format(stats.Price)}";
        }

        if (data.Products.Count > maxProducts)
        {
            yield return $"  ... and {data.Products.Count - maxProducts} more products";
        }

        foreach (var (minute, stats) in data.Minutes.OrderByDescending(m => m.Key).Take(maxMinutes))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"  {DateTimeOffset.FromUnixTimeMilliseconds(minute).UtcDateTime:yyyy-MM-dd HH:mm}Z  {Format(stats.Price)}");
        }
    }
}
