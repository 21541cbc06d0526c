using System.Buffers;
using Avro.IO;
using Avro.Specific;
using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;

namespace Orders.Producer.UnitTests;

/// <summary>The lean serializer against Apache.Avro's specific writer (what Confluent's serializer uses), on random orders.</summary>
public sealed class OrderSerializerTests
{
    public static TheoryData<int> Seeds() => [1, 2, 3];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ToArray_IsTheHeaderAndApacheAvrosBytes(int seed)
    {
        foreach (var order in RandomOrders(seed, 300))
        {
            var ours = OrderSerializer.ToArray(order, 0x01020304);

            Assert.Equal([0, 1, 2, 3, 4, .. ApacheAvro(order)], ours);
            Assert.Equal(ours.Length, OrderSerializer.GetSize(order));
        }
    }

    [Fact]
    public void Write_ToSpanAndBufferWriter_GivesTheSameBytes()
    {
        var order = RandomOrders(4, 1).Single();
        var expected = OrderSerializer.ToArray(order, 7);
        var span = new byte[expected.Length + 10];
        var buffer = new ArrayBufferWriter<byte>();

        var written = OrderSerializer.Write(order, 7, span);
        OrderSerializer.Write(order, 7, buffer);

        Assert.Equal(expected, span[..written]);
        Assert.Equal(expected, buffer.WrittenSpan.ToArray());
        Assert.Throws<ArgumentException>(() => OrderSerializer.Write(order, 7, new byte[expected.Length - 1]));
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ADrawnOrder_IsWrittenAsTheOrderItStandsFor(int seed)
    {
        // A clock that moves by odd steps from before 1970 to after it, so that createdAt's milliseconds
        // (truncated through a double, as Apache.Avro does) meet negative values and every sub-millisecond.
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(-3));
        var generator = new OrderGenerator(new Random(seed), time, invalidRatio: 0.3);
        var spoiled = 0;
        for (var i = 0; i < 20_000; i++)
        {
            var drawn = generator.Draw();
            var order = drawn.ToOrder();
            spoiled += drawn.Valid ? 0 : 1;

            Assert.Equal(OrderSerializer.ToArray(order, int.MaxValue - i), OrderSerializer.ToArray(in drawn, int.MaxValue - i));
            Assert.Equal(drawn.Valid, OrderValidator.Validate(order) is null);
            time.Advance(TimeSpan.FromTicks(TimeSpan.TicksPerDay * 6 / 20_000) + TimeSpan.FromTicks(i % 9_973));
        }

        Assert.InRange(spoiled, 5_000, 7_000);
        Assert.True(time.GetUtcNow() > DateTimeOffset.UnixEpoch.AddDays(2));
    }

    [Fact]
    public void SchemaString_IsWhatConfluentsSerializerRegisters() =>
        Assert.Equal(Order._SCHEMA.ToString(), OrderSerializer.SchemaString);

    private static byte[] ApacheAvro(Order order)
    {
        using var stream = new MemoryStream();
        new SpecificDatumWriter<Order>(Order._SCHEMA).Write(order, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    private static IEnumerable<Order> RandomOrders(int seed, int count)
    {
        var random = new Random(seed);
        string Text() => new([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)(random.Next(4) == 0 ? random.Next(0x80, 0xD7FF) : random.Next(0x20, 0x7F)))]);
        for (var i = 0; i < count; i++)
        {
            yield return new Order
            {
                OrderId = Text(),
                Product = Text(),
                Price = random.Next(3) switch { 0 => Math.Round(random.NextDouble() * 1000, 2), 1 => -random.NextDouble() * 1e12, _ => double.NaN },
                CustomerId = Text(),
                Quantity = random.Next(int.MinValue, int.MaxValue),
                Currency = Text(),
                CreatedAt = new DateTime(random.NextInt64(DateTime.UnixEpoch.Ticks - (TimeSpan.TicksPerDay * 20000), DateTime.UnixEpoch.Ticks + (TimeSpan.TicksPerDay * 40000)), DateTimeKind.Utc),
                Channel = Text(),
            };
        }
    }
}
