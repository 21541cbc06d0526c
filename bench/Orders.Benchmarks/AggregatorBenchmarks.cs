using BenchmarkDotNet.Attributes;
using Orders.Processor.Aggregates;

namespace Orders.Benchmarks;

/// <summary>
/// One order into a partition's aggregate (overall, per product, per event-time minute), per order
/// over a batch of generated ones: the exact decimal sums the processor keeps, against the same
/// bookkeeping with plain double sums (what exactness costs).
/// </summary>
[MemoryDiagnoser]
public class AggregatorBenchmarks
{
    private const int Batch = 1024;

    private readonly string[] _products = new string[Batch];
    private readonly double[] _prices = new double[Batch];
    private readonly long[] _times = new long[Batch];
    private PartitionAggregate _aggregate = null!;
    private DoubleAggregate _doubles = null!;

    [GlobalSetup]
    public void Setup()
    {
        var generator = new Orders.Producer.OrderGenerator(new Random(1), TimeProvider.System);
        for (var i = 0; i < Batch; i++)
        {
            var (order, _) = generator.Next();
            _products[i] = order.Product;
            _prices[i] = order.Price;

            // Orders spread over ten minutes, so minutes are added and looked up as in a live stream.
            _times[i] = new DateTimeOffset(order.CreatedAt).ToUnixTimeMilliseconds() + (i * 600_000L / Batch);
        }

        _aggregate = new PartitionAggregate(windowMinutes: 60);
        _doubles = new DoubleAggregate();
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public void DoubleSums()
    {
        for (var i = 0; i < Batch; i++)
        {
            _doubles.Add(_products[i], _prices[i], _times[i]);
        }
    }

    [Benchmark(OperationsPerInvoke = Batch)]
    public void OursExactDecimalSums()
    {
        for (var i = 0; i < Batch; i++)
        {
            _aggregate.Add("EUR", _products[i], _prices[i], 1, _times[i]);
        }
    }

    /// <summary>The same dictionaries, double sums: fast and order-dependent.</summary>
    private sealed class DoubleAggregate
    {
        private readonly Dictionary<string, (long Count, double Sum)> _products = new(StringComparer.Ordinal);
        private readonly Dictionary<long, (long Count, double Sum)> _minutes = [];
        private (long Count, double Sum) _overall;

        public void Add(string product, double price, long eventTimeMs)
        {
            _overall = (_overall.Count + 1, _overall.Sum + price);
            ref var stats = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_products, product, out _);
            stats = (stats.Count + 1, stats.Sum + price);
            ref var minute = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_minutes, eventTimeMs / 60_000, out _);
            minute = (minute.Count + 1, minute.Sum + price);
        }
    }
}
