using Orders.Contracts;
using Orders.Producer;

namespace Orders.Benchmarks;

internal static class SampleOrders
{
    /// <summary>A realistic order, from the producer's own generator.</summary>
    public static Order Create() =>
        new OrderGenerator(new Random(42), TimeProvider.System).Next().Order;

    /// <summary>The earliest schema (float price) in another namespace, as a foreign producer writes it.</summary>
    public const string EarliestElsewhere = """{"type":"record","name":"Order","namespace":"com.example.shop","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""";
}
