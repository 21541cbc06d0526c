using Orders.Processor.Aggregates;

namespace Orders.Processor.Observability;

/// <summary>The per-product series, capped: product names come from producers.</summary>
public sealed partial class ProcessorMetrics
{
    /// <summary>
    /// The series per currency and product: all of them up to <see cref="MaxProductSeries"/>; beyond,
    /// the busiest, and the rest of each currency summed as <see cref="OtherProducts"/> (never across
    /// currencies). Product names come from producers: without a cap a bad producer could grow the
    /// series (and every scraper's memory) without bound.
    /// </summary>
    internal static List<(string Currency, string Product, OrderMeasures Stats)> CapProducts(IReadOnlyDictionary<string, CurrencyData> currencies)
    {
        // The currencies the per-currency series cover (PerCurrency): the busiest.
        var all = BusiestCurrencies(currencies).SelectMany(c => c.Value.Products.Select(p => (Currency: c.Key, Product: p.Key, Stats: p.Value))).ToList();
        if (all.Count <= MaxProductSeries)
        {
            return all;
        }

        var ranked = all.OrderByDescending(p => p.Stats.Count).ThenBy(p => p.Currency, StringComparer.Ordinal).ThenBy(p => p.Product, StringComparer.Ordinal).ToList();
        var kept = ranked.Take(MaxProductSeries - 1).ToList();
        var rest = ranked.Skip(MaxProductSeries - 1).ToList();
        var summed = rest.Select(p => p.Currency).ToHashSet(StringComparer.Ordinal);
        // A product a producer named like the rest's series joins it where the currency has one: two series
        // with one label set would be one to a scraper, which keeps either (the other's orders lost).
        var named = kept.Where(p => p.Product == OtherProducts && summed.Contains(p.Currency)).ToList();
        var series = kept.Except(named).ToList();
        series.AddRange(rest.Concat(named)
            .GroupBy(p => p.Currency)
            .Select(g => (g.Key, OtherProducts, g.Aggregate(OrderMeasures.Empty, (sum, p) => sum.Combine(p.Stats)))));
        return series;
    }

    /// <summary>The <see cref="MaxCurrencySeries"/> currencies with the most orders (ties by name), each with a series of its own.</summary>
    internal static IEnumerable<KeyValuePair<string, CurrencyData>> BusiestCurrencies(IReadOnlyDictionary<string, CurrencyData> currencies) =>
        currencies.OrderByDescending(c => c.Value.Overall.Count).ThenBy(c => c.Key, StringComparer.Ordinal).Take(MaxCurrencySeries);

    /// <summary>The capped series of one state, computed once per state rather than once per instrument.</summary>
    private sealed record ProductSeries(AggregateData Data, IReadOnlyList<(string Currency, string Product, OrderMeasures Stats)> Series)
    {
        public static ProductSeries Of(AggregateData data, ref ProductSeries? cached)
        {
            if (cached is { } hit && ReferenceEquals(hit.Data, data))
            {
                return hit;
            }

            return cached = new ProductSeries(data, CapProducts(data.Currencies));
        }
    }
}
