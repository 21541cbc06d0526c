using BenchmarkDotNet.Attributes;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Producer;

namespace Orders.Benchmarks;

/// <summary>
/// The domain rules on a decoded order, as the processor's loop runs them per record: without the
/// record's timestamp (the rules on the order alone: id, product, price, quantity, an ISO 4217
/// currency) and with it (also <c>createdAt</c> against the time the record was written).
/// </summary>
[MemoryDiagnoser]
public class ValidatorBenchmarks
{
    private Order _order = null!;
    private long _writtenAt;

    [GlobalSetup]
    public void Setup()
    {
        // Decoded from its value, as the loop sees it: the id is read from the value's bytes.
        var order = SampleOrders.Create();
        var decoder = new OrderDecoder(FakeRegistry.With(OrderSchemas.Current));
        decoder.ResolveAsync(1).AsTask().GetAwaiter().GetResult();
        _order = decoder.DecodeAsync(OrderSerializer.ToArray(order, 1)).Result;
        _writtenAt = new DateTimeOffset(order.CreatedAt).ToUnixTimeMilliseconds();
    }

    [Benchmark(Baseline = true)]
    public string? RulesOnTheOrder() => OrderValidator.Validate(_order);

    [Benchmark]
    public string? WithTheRecordsTimestamp() => OrderValidator.Validate(_order, _writtenAt);
}
