using BenchmarkDotNet.Attributes;
using Orders.Producer;

namespace Orders.Benchmarks;

/// <summary>
/// One generated order made ready to send (its delivery key and its wire-format value), as the
/// publisher's generating thread makes each: through an <see cref="Orders.Contracts.Order"/> and the
/// serializer, against written straight from the drawn order. Both draw the same orders.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private const int SchemaId = 1;
    private OrderGenerator _generator = null!;
    private SentOrder _key;

    [GlobalSetup]
    public void Setup() => _generator = new OrderGenerator(new Random(1), TimeProvider.System);

    [Benchmark(Baseline = true)]
    public byte[] ThroughAnOrder()
    {
        var (order, valid) = _generator.Next(out var id);
        _key = new SentOrder(id, order.Price, order.Quantity, order.Currency, valid);
        return OrderSerializer.ToArray(order, SchemaId);
    }

    [Benchmark]
    public byte[] Drawn()
    {
        var ready = ReadyOrder.Next(_generator, SchemaId, keepOrder: false);
        _key = ready.Key;
        return ready.Value;
    }
}
