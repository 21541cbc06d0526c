using System.Runtime.InteropServices;

namespace Orders.Processor.Aggregates;

/// <summary>
/// The running statistics of one input partition, updated order by order on the loop's thread
/// (not thread-safe). Per currency: overall, per product, and per event-time minute for the newest
/// <see cref="WindowMinutes"/> minutes the partition has seen (older orders are counted overall and
/// as late, not in a minute), each with the unit price and the order value; dead letters by
/// reason; records lost to retention; and, unchanged, what a checkpoint written before per-currency
/// aggregates held (<see cref="AggregateData.Unsplit"/>).
/// </summary>
public sealed class PartitionAggregate
{
    private readonly Dictionary<string, Bucket> _currencies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _deadLettered = new(StringComparer.Ordinal);
    private CurrencyData? _unsplit;
    private long _newestMinute = long.MinValue;

    public PartitionAggregate(int windowMinutes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowMinutes, 1);
        WindowMinutes = windowMinutes;
    }

    public int WindowMinutes { get; }

    public long SkippedByRetention { get; private set; }

    public long LateOrders { get; private set; }

    /// <summary>Orders counted, of every currency.</summary>
    public long Count { get; private set; }

    public int ProductCount => _currencies.Values.Sum(c => c.Products.Count);

    public void Add(string currency, string product, double price, int quantity, long eventTimeMs)
    {
        // The price and the order value, converted once per order, not once per statistic.
        var amount = Amount.Of(price);
        var value = amount.Times(quantity);
        ref var bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_currencies, currency, out var existed);
        if (!existed)
        {
            bucket = new Bucket();
        }

        Count++;
        bucket!.Overall.Add(amount, value);
        AddTo(bucket.Products, product, amount, value);

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

        AddTo(bucket.Minutes, minute, amount, value);
    }

    public void AddDeadLetter(string reason) =>
        CollectionsMarshal.GetValueRefOrAddDefault(_deadLettered, reason, out _)++;

    public void AddSkippedByRetention(long count) => SkippedByRetention += count;

    /// <summary>One currency's figures so far (empty when it has none).</summary>
    public CurrencyData Currency(string currency) =>
        _currencies.TryGetValue(currency, out var bucket) ? bucket.ToData() : CurrencyData.Empty;

    public AggregateData ToData() => new(
        _currencies.ToDictionary(c => c.Key, c => c.Value.ToData(), StringComparer.Ordinal),
        _unsplit,
        new Dictionary<string, long>(_deadLettered, StringComparer.Ordinal),
        SkippedByRetention,
        LateOrders);

    public static PartitionAggregate FromData(AggregateData data, int windowMinutes)
    {
        var aggregate = new PartitionAggregate(windowMinutes)
        {
            SkippedByRetention = data.SkippedByRetention,
            LateOrders = data.LateOrders,
            _unsplit = data.Unsplit,
            Count = data.Count,
        };
        foreach (var (currency, currencyData) in data.Currencies)
        {
            var bucket = new Bucket { Overall = MeasuresAccumulator.From(currencyData.Overall) };
            foreach (var (product, measures) in currencyData.Products)
            {
                bucket.Products[product] = MeasuresAccumulator.From(measures);
            }

            foreach (var (minute, measures) in currencyData.Minutes)
            {
                bucket.Minutes[minute] = MeasuresAccumulator.From(measures);
                aggregate._newestMinute = Math.Max(aggregate._newestMinute, minute);
            }

            aggregate._currencies[currency] = bucket;
        }

        foreach (var (reason, count) in data.DeadLettered)
        {
            aggregate._deadLettered[reason] = count;
        }

        aggregate.EvictMinutesBefore(aggregate.OldestKeptMinute);
        return aggregate;
    }

    /// <summary>Adds an order to the set under <paramref name="key"/> where it lies, starting the set when it is new.</summary>
    private static void AddTo<TKey>(Dictionary<TKey, MeasuresAccumulator> sets, TKey key, in Amount amount, in Amount value)
        where TKey : notnull
    {
        ref var set = ref CollectionsMarshal.GetValueRefOrAddDefault(sets, key, out var existed);
        if (!existed)
        {
            set = MeasuresAccumulator.Empty;
        }

        set.Add(amount, value);
    }

    private long OldestKeptMinute =>
        _newestMinute == long.MinValue ? long.MinValue : _newestMinute - ((WindowMinutes - 1) * EventTimeWindows.MinuteMs);

    private void EvictMinutesBefore(long oldestKept)
    {
        // Runs only when the newest minute moves on, so the scan is rare and short.
        foreach (var bucket in _currencies.Values)
        {
            List<long>? stale = null;
            foreach (var minute in bucket.Minutes.Keys)
            {
                if (minute < oldestKept)
                {
                    (stale ??= []).Add(minute);
                }
            }

            foreach (var minute in stale ?? [])
            {
                bucket.Minutes.Remove(minute);
            }
        }
    }

    /// <summary>One currency's accumulators, added to in place.</summary>
    private sealed class Bucket
    {
        // A field: the aggregate adds to it where it lies.
        public MeasuresAccumulator Overall = MeasuresAccumulator.Empty;

        public Dictionary<string, MeasuresAccumulator> Products { get; } = new(StringComparer.Ordinal);

        public Dictionary<long, MeasuresAccumulator> Minutes { get; } = [];

        public CurrencyData ToData() => new(
            Overall.ToMeasures(),
            Products.ToDictionary(p => p.Key, p => p.Value.ToMeasures(), StringComparer.Ordinal),
            Minutes.ToDictionary(m => m.Key, m => m.Value.ToMeasures()));
    }
}
