using Avro.IO;
using Avro.Specific;
using BenchmarkDotNet.Attributes;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor.Records;
using Orders.Producer;

namespace Orders.Benchmarks;

/// <summary>
/// One wire-format value to an <see cref="Order"/>: our resolving decoder against Apache.Avro's
/// resolving reader (what the processor used before, with a MemoryStream and decoder per value),
/// for a value written with order.avsc itself and one written with the earliest schema.
/// </summary>
/// <remarks>
/// Apache.Avro cannot read the earliest schema in another namespace at all (it matches full
/// names), so its evolved case uses the earliest schema in order.avsc's own namespace.
/// </remarks>
[MemoryDiagnoser]
public class DecoderBenchmarks
{
    private byte[] _current = [];
    private byte[] _earliest = [];
    private byte[] _earliestElsewhere = [];
    private OrderDecoder _currentDecoder = null!;
    private OrderDecoder _evolvedDecoder = null!;
    private SpecificDatumReader<Order> _apacheCurrent = null!;
    private SpecificDatumReader<Order> _apacheEvolved = null!;

    [GlobalSetup]
    public void Setup()
    {
        var order = SampleOrders.Create();
        _current = OrderSerializer.ToArray(order, 1);
        _earliest = Earliest(OrderSchemas.Earliest, order);
        _earliestElsewhere = Earliest(SampleOrders.EarliestElsewhere, order);
        _currentDecoder = new OrderDecoder(FakeRegistry.With(OrderSchemas.Current));
        _evolvedDecoder = new OrderDecoder(FakeRegistry.With(SampleOrders.EarliestElsewhere));
        _currentDecoder.ResolveAsync(1).AsTask().GetAwaiter().GetResult();
        _evolvedDecoder.ResolveAsync(1).AsTask().GetAwaiter().GetResult();
        _apacheCurrent = new SpecificDatumReader<Order>(Order._SCHEMA, Order._SCHEMA);
        _apacheEvolved = new SpecificDatumReader<Order>(global::Avro.Schema.Parse(OrderSchemas.Earliest), Order._SCHEMA);
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("same writer")]
    public Order ApacheSameWriter() => Apache(_apacheCurrent, _current);

    [Benchmark]
    [BenchmarkCategory("same writer")]
    public Order OursSameWriter() => _currentDecoder.DecodeAsync(_current).Result;

    [Benchmark]
    [BenchmarkCategory("evolved writer")]
    public Order ApacheEarliestWriter() => Apache(_apacheEvolved, _earliest);

    [Benchmark]
    [BenchmarkCategory("evolved writer")]
    public Order OursEarliestWriterOtherNamespace() => _evolvedDecoder.DecodeAsync(_earliestElsewhere).Result;

    private static Order Apache(SpecificDatumReader<Order> reader, byte[] value)
    {
        using var stream = new MemoryStream(value, OrderDecoder.HeaderLength, value.Length - OrderDecoder.HeaderLength, writable: false);
        return reader.Read(null!, new BinaryDecoder(stream));
    }

    private static byte[] Earliest(string schema, Order order)
    {
        var writer = (global::Avro.RecordSchema)global::Avro.Schema.Parse(schema);
        var record = new global::Avro.Generic.GenericRecord(writer);
        record.Add("orderId", order.OrderId);
        record.Add("product", order.Product);
        record.Add("price", (float)order.Price);
        using var stream = new MemoryStream();
        stream.Write([0, 0, 0, 0, 1]);
        new global::Avro.Generic.GenericDatumWriter<global::Avro.Generic.GenericRecord>(writer).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }
}
