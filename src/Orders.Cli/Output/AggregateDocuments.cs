using System.Globalization;
using Orders.Processor.Aggregates;

namespace Orders.Cli.Output;

/// <summary>Running statistics as JSON-ready dictionaries and as text, for summaries and <c>orders stats</c>.</summary>
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

    /// <summary>The aggregate's own keys: average, products, minutes, deadLettered, skippedByRetention, lateOrders.</summary>
    public static void AddTo(Dictionary<string, object?> document, AggregateData data)
    {
        document["average"] = Stats(data.Overall);
        document["products"] = data.Products.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => Stats(p.Value));
        document["minutes"] = data.Minutes.OrderBy(m => m.Key).Select(m => new Dictionary<string, object?>
        {
            ["minute"] = DateTimeOffset.FromUnixTimeMilliseconds(m.Key).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture),
            ["count"] = m.Value.Count,
            ["mean"] = m.Value.Mean,
        }).ToList();
        document["deadLettered"] = new Dictionary<string, long>(data.DeadLettered) { ["total"] = data.DeadLetteredTotal };
        document["skippedByRetention"] = data.SkippedByRetention;
        document["lateOrders"] = data.LateOrders;
    }

    public static string Format(PriceStatistics stats) => stats.Count == 0
        ? "n/a (no orders)"
        : string.Create(CultureInfo.InvariantCulture, $"mean {stats.Mean:F2} over {stats.Count} (min {stats.Min:F2}, max {stats.Max:F2})");

    public static IEnumerable<string> Lines(AggregateData data, int maxProducts = 50, int maxMinutes = 10)
    {
        yield return $"Average price {Format(data.Overall)}";
        if (data.DeadLetteredTotal > 0)
        {
            yield return $"Dead-lettered {data.DeadLetteredTotal}: " + string.Join(", ", data.DeadLettered.Select(p => $"{p.Key} {p.Value}"));
        }

        if (data.SkippedByRetention > 0)
        {
            yield return $"LOST: {data.SkippedByRetention} records were deleted by retention before they were read";
        }

        foreach (var (product, stats) in data.Products.OrderBy(p => p.Key, StringComparer.Ordinal).Take(maxProducts))
        {
            yield return $"  {product,-18} {Format(stats)}";
        }

        if (data.Products.Count > maxProducts)
        {
            yield return $"  ... and {data.Products.Count - maxProducts} more products";
        }

        foreach (var (minute, stats) in data.Minutes.OrderByDescending(m => m.Key).Take(maxMinutes))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"  {DateTimeOffset.FromUnixTimeMilliseconds(minute).UtcDateTime:yyyy-MM-dd HH:mm}Z  {Format(stats)}");
        }
    }
}
