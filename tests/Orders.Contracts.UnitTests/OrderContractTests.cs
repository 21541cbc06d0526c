using Avro.Generic;
using Avro.IO;
using Avro.Specific;
using Orders.Avro;
using Orders.SchemaRegistry.Compatibility;

namespace Orders.Contracts.UnitTests;

public sealed class OrderContractTests
{
    [Fact]
    public void SpecificRecord_RoundTripsThroughAvroBinary()
    {
        var order = new Order
        {
            OrderId = "2f1c0c53-6c53-4a53-9a43-1b0b7c8e7d11",
            Product = "kettle",
            Price = 39.95,
            CustomerId = "c-42",
            Quantity = 3,
            Currency = "USD",
            CreatedAt = new DateTime(2026, 11, 25, 9, 30, 15, 123, DateTimeKind.Utc),
            Channel = "web",
        };

        var copy = Read<Order>(Write(order, new SpecificDatumWriter<Order>(Order._SCHEMA)), Order._SCHEMA, Order._SCHEMA);

        Assert.Equivalent(order, copy, strict: true);
    }

    [Fact]
    public void EarliestSchemaRecord_IsReadAsOrder_WithPriceAsDoubleAndDefaults()
    {
        var earliest = (global::Avro.RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Earliest);
        var record = new GenericRecord(earliest);
        record.Add("orderId", "o-1");
        record.Add("product", "teapot");
        record.Add("price", 12.5f);

        var order = Read<Order>(Write(record, new GenericDatumWriter<GenericRecord>(earliest)), earliest, Order._SCHEMA);

        Assert.Equal(("o-1", "teapot", 12.5), (order.OrderId, order.Product, order.Price));
        Assert.Equal(("", 1, "EUR", DateTime.UnixEpoch, "unknown"), (order.CustomerId, order.Quantity, order.Currency, order.CreatedAt, order.Channel));
    }

    [Theory]
    [InlineData(CompatibilityLevel.Backward)]
    [InlineData(CompatibilityLevel.BackwardTransitive)]
    public void CurrentSchema_IsBackwardCompatibleWithTheEarliest(CompatibilityLevel level)
    {
        var problems = CompatibilityLevels.Check(level, AvroSchemaParser.Parse(OrderSchemas.Current), [(1, AvroSchemaParser.Parse(OrderSchemas.Earliest))]);

        Assert.Empty(problems);
    }

    [Fact]
    public void EmbeddedSchema_IsTheShippedOrderAvscFile() =>
        Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "order.avsc")), OrderSchemas.Current);

    private static byte[] Write<T>(T datum, DatumWriter<T> writer)
    {
        using var stream = new MemoryStream();
        writer.Write(datum, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    private static T Read<T>(byte[] bytes, global::Avro.Schema writer, global::Avro.Schema reader)
        where T : class
    {
        using var stream = new MemoryStream(bytes);
        return new SpecificDatumReader<T>(writer, reader).Read(null!, new BinaryDecoder(stream));
    }
}
