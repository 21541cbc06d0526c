using System.Runtime.InteropServices;

namespace Orders.Processor.Aggregates;

/// <summary>
/// The running statistics of one input partition, updated record by record by the consume loop
/// (one thread; not thread-safe). Overall and per product; per event-time minute for the newest
/// <see cref="WindowMinutes"/> minutes the partition has seen (older orders are counted overall
/// and as late, not in a minute); dead letters by reason; records lost to retention.
/// </summary>
public sealed class PartitionAggregate
{
    private readonly Dictionary<string, PriceStatistics> _products = new(StringComparer.Ordinal);
    private readonly Dictionary<long, PriceStatistics> _minutes = [];
    private readonly Dictionary<string, long> _deadLettered = new(StringComparer.Ordinal);
    private long _newestMinute = long.MinValue;

    public PartitionAggregate(int windowMinutes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMinutes, 1);
        WindowMinutes = windowMinutes;
    }

    public int WindowMinutes { get; }

    public PriceStatistics Overall { get; private set; } = PriceStatistics.Empty;

    public long SkippedByRetention { get; private set; }

    public long LateOrders { get; private set; }

    public int ProductCount => _products.Count;

    public void Add(string product, double price, long eventTimeMs)
    {
        // double -> decimal is the dearest step: once per order, not once per statistic.
        var amount = PriceStatistics.ToAmount(price);
        Overall = Overall.Add(price, amount);
        ref var stats = ref CollectionsMarshal.GetValueRefOrAddDefault(_products, product, out var existed);
        stats = (existed ? stats : PriceStatistics.Empty).Add(price, amount);

        var minute = EventTimeWindows.MinuteOf(eventTimeMs);
        if (minute > _newestMinute)
        {
            _newestMinute = minute;
            EvictMinutesBefore(OldestKeptMinute);
        }
        else if (minute < OldestKeptMinute)
        {
            LateOrders++;
            return;
        }

        ref var bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_minutes, minute, out existed);
        bucket = (existed ? bucket : PriceStatistics.Empty).Add(price, amount);
    }

    public void AddDeadLetter(string reason) =>
        CollectionsMarshal.GetValueRefOrAddDefault(_deadLettered, reason, out _)++;

    public void AddSkippedByRetention(long count) => SkippedByRetention += count;

    public AggregateData ToData() => new(
        Overall,
        new Dictionary<string, PriceStatistics>(_products, StringComparer.Ordinal),
        new Dictionary<long, PriceStatistics>(_minutes),
        new Dictionary<string, long>(_deadLettered, StringComparer.Ordinal),
        SkippedByRetention,
        LateOrders);

    public static PartitionAggregate FromData(AggregateData data, int windowMinutes)
    {
        var aggregate = new PartitionAggregate(windowMinutes)
        {
            Overall = data.Overall,
            SkippedByRetention = data.SkippedByRetention,
            LateOrders = data.LateOrders,
        };
        foreach (var (product, stats) in data.Products)
        {
            aggregate._products[product] = stats;
        }

        foreach (var (reason, count) in data.DeadLettered)
        {
            aggregate._deadLettered[reason] = count;
        }

        foreach (var (minute, stats) in data.Minutes)
        {
            aggregate._minutes[minute] = stats;
            aggregate._newestMinute = Math.Max(aggregate._newestMinute, minute);
        }

        aggregate.EvictMinutesBefore(aggregate.OldestKeptMinute);
        return aggregate;
    }

    private long OldestKeptMinute =>
        _newestMinute == long.MinValue ? long.MinValue : _newestMinute - ((WindowMinutes - 1) * EventTimeWindows.MinuteMs);

    private void EvictMinutesBefore(long oldestKept)
    {
        // Runs only when the newest minute moves on, so the scan is rare and short.
        if (_minutes.Count == 0)
        {
            return;
        }

        List<long>? stale = null;
        foreach (var minute in _minutes.Keys)
        {
            if (minute < oldestKept)
            {
                (stale ??= []).Add(minute);
            }
        }

        if (stale is not null)
        {
            foreach (var minute in stale)
            {
                _minutes.Remove(minute);
            }
        }
    }
}
