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
    /// <summary>How many currencies' buckets are found by reference (<see cref="BucketOf"/>).</summary>
    private const int RecentCurrencies = 4;

    private readonly Dictionary<string, Bucket> _currencies = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _deadLettered = new(StringComparer.Ordinal);
    private readonly (string? Code, Bucket? Bucket)[] _recent = new (string?, Bucket?)[RecentCurrencies];
    private int _nextRecent;
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
        var bucket = BucketOf(currency);
        Count++;
        bucket.Overall.Add(amount, value);
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

        bucket.AddToMinute(minute, amount, value);
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
                bucket.SetMinute(minute, MeasuresAccumulator.From(measures));
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

    /// <summary>
    /// The currency's bucket, started when it is new. The decoder hands out one string instance per
    /// currency code (its string pool), so the bucket of a code seen lately is found by reference,
    /// without hashing it; another instance of the same code goes through the dictionary, as the
    /// first one did.
    /// </summary>
    private Bucket BucketOf(string currency)
    {
        foreach (var (code, known) in _recent)
        {
            if (ReferenceEquals(code, currency))
            {
                return known!;
            }
        }

        ref var bucket = ref CollectionsMarshal.GetValueRefOrAddDefault(_currencies, currency, out var existed);
        if (!existed)
        {
            bucket = new Bucket();
        }

        _recent[_nextRecent] = (currency, bucket!);
        _nextRecent = (_nextRecent + 1) % RecentCurrencies;
        return bucket!;
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
            bucket.EvictMinutesBefore(oldestKept);
        }
    }

    /// <summary>One currency's accumulators, added to in place.</summary>
    private sealed class Bucket
    {
        // A field: the aggregate adds to it where it lies.
        public MeasuresAccumulator Overall = MeasuresAccumulator.Empty;

        public Dictionary<string, MeasuresAccumulator> Products { get; } = new(StringComparer.Ordinal);

        // The bucket's newest minute is added to where it lies, without a lookup (nearly every order is
        // in it); the older ones are in _minutes. A minute is in one place or the other, never both.
        private readonly Dictionary<long, MeasuresAccumulator> _minutes = [];
        private bool _hasOpen;
        private long _openMinute;
        private MeasuresAccumulator _open;

        public void AddToMinute(long minute, in Amount amount, in Amount value)
        {
            if (_hasOpen && minute == _openMinute)
            {
                _open.Add(amount, value);
                return;
            }

            if (_hasOpen && minute < _openMinute)
            {
                AddTo(_minutes, minute, amount, value);
                return;
            }

            // A newer minute opens; the one open so far joins the others.
            if (_hasOpen)
            {
                _minutes[_openMinute] = _open;
            }

            _open = _minutes.Remove(minute, out var kept) ? kept : MeasuresAccumulator.Empty;
            (_hasOpen, _openMinute) = (true, minute);
            _open.Add(amount, value);
        }

        /// <summary>A minute restored from a checkpoint, into a bucket not yet added to (none is open): the first order opens its minute.</summary>
        public void SetMinute(long minute, MeasuresAccumulator measures) => _minutes[minute] = measures;

        public void EvictMinutesBefore(long oldestKept)
        {
            if (_hasOpen && _openMinute < oldestKept)
            {
                (_hasOpen, _open) = (false, default);
            }

            List<long>? stale = null;
            foreach (var minute in _minutes.Keys)
            {
                if (minute < oldestKept)
                {
                    (stale ??= []).Add(minute);
                }
            }

            foreach (var minute in stale ?? [])
            {
                _minutes.Remove(minute);
            }
        }

        public CurrencyData ToData()
        {
            var minutes = _minutes.ToDictionary(m => m.Key, m => m.Value.ToMeasures());
            if (_hasOpen)
            {
                minutes[_openMinute] = _open.ToMeasures();
            }

            return new(Overall.ToMeasures(), Products.ToDictionary(p => p.Key, p => p.Value.ToMeasures(), StringComparer.Ordinal), minutes);
        }
    }
}
