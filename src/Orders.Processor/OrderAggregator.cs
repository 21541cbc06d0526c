using Orders.Contracts;

namespace Orders.Processor;

/// <summary>A point-in-time copy of the running averages.</summary>
public sealed record AggregateSnapshot(
    PriceStatistics Overall,
    PriceStatistics LastMinute,
    IReadOnlyDictionary<string, PriceStatistics> Products,
    IReadOnlyDictionary<int, PriceStatistics> Partitions);

/// <summary>
/// Running price statistics kept per partition (overall and per product), so that partitions,
/// and later processor instances, combine into one exact global figure; plus a one-minute
/// sliding window in one-second buckets, timed by the injected clock.
/// </summary>
public sealed class OrderAggregator(TimeProvider time)
{
    private const int WindowSeconds = 60;

    private readonly Lock _lock = new();
    private readonly Dictionary<int, PartitionState> _partitions = [];
    private readonly (long Second, PriceStatistics Stats)[] _window = new (long, PriceStatistics)[WindowSeconds];

    public void Record(int partition, Order order)
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            if (!_partitions.TryGetValue(partition, out var state))
            {
                state = new PartitionState();
                _partitions[partition] = state;
            }

            state.Overall = state.Overall.Add(order.Price);
            state.Products[order.Product] = state.Products.GetValueOrDefault(order.Product, PriceStatistics.Empty).Add(order.Price);

            ref var bucket = ref _window[second % WindowSeconds];
            if (bucket.Second != second)
            {
                bucket = (second, PriceStatistics.Empty);
            }

            bucket.Stats = bucket.Stats.Add(order.Price);
        }
    }

    public AggregateSnapshot Snapshot()
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        lock (_lock)
        {
            var overall = PriceStatistics.Empty;
            var products = new SortedDictionary<string, PriceStatistics>(StringComparer.Ordinal);
            foreach (var state in _partitions.Values)
            {
                overall = overall.Combine(state.Overall);
                foreach (var (product, stats) in state.Products)
                {
                    products[product] = products.GetValueOrDefault(product, PriceStatistics.Empty).Combine(stats);
                }
            }

            var lastMinute = PriceStatistics.Empty;
            foreach (var (second, stats) in _window)
            {
                if (stats.Count > 0 && now - second < WindowSeconds)
                {
                    lastMinute = lastMinute.Combine(stats);
                }
            }

            return new AggregateSnapshot(
                overall,
                lastMinute,
                products,
                _partitions.ToDictionary(p => p.Key, p => p.Value.Overall));
        }
    }

    private sealed class PartitionState
    {
        public PriceStatistics Overall { get; set; } = PriceStatistics.Empty;
        public Dictionary<string, PriceStatistics> Products { get; } = new(StringComparer.Ordinal);
    }
}
