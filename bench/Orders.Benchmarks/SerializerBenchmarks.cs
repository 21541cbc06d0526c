using BenchmarkDotNet.Attributes;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.Producer;
using Orders.SchemaRegistry;

namespace Orders.Benchmarks;

/// <summary>
/// One order to its Confluent wire-format value: ours against Confluent's AvroSerializer, both
/// with Confluent's caching registry client in front of our registry, as in production.
/// </summary>
[MemoryDiagnoser]
public class SerializerBenchmarks
{
    private static readonly SerializationContext Context = new(MessageComponentType.Value, "orders");
    private readonly Order _order = SampleOrders.Create();
    private RegistryServer _server = null!;
    private CachedSchemaRegistryClient _registry = null!;
    private OrderSerializer _ours = null!;
    private AvroSerializer<Order> _confluent = null!;

    [GlobalSetup]
    public void Setup()
    {
        _server = RegistryServer.StartAsync(new RegistryOptions { Port = 0 }).GetAwaiter().GetResult();
        _registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = _server.Url.ToString() });
        _ours = new OrderSerializer(_registry);
        _confluent = new AvroSerializer<Order>(_registry);

        // Both register the schema on first use; that is not what is measured.
        _ours.Serialize(_order, Context);
        _confluent.SerializeAsync(_order, Context).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        _server.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public byte[] Confluent() => _confluent.SerializeAsync(_order, Context).GetAwaiter().GetResult();

    [Benchmark]
    public byte[] Ours() => _ours.Serialize(_order, Context);
}
