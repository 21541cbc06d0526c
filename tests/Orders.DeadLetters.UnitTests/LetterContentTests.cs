using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

public sealed class LetterContentTests
{
    [Fact]
    public void HexDump_SixteenBytesALine_WithPrintableAscii()
    {
        var bytes = "0123456789abcdef\0\u0001xyz"u8.ToArray();

        var dump = LetterContent.HexDump(bytes);

        Assert.Equal(
            "00000000  30 31 32 33 34 35 36 37  38 39 61 62 63 64 65 66  |0123456789abcdef|\n" +
            "00000010  00 01 78 79 7a                                    |..xyz|\n",
            dump);
    }

    [Fact]
    public void HexDump_Nothing_IsEmpty() => Assert.Equal("", LetterContent.HexDump([]));

    [Fact]
    public void Fields_AreTheSchemaFieldsInOrder_TimesInIso()
    {
        var order = new Order { OrderId = "o-1", Product = "mug", Price = 9.5, CreatedAt = new DateTime(2026, 11, 25, 10, 0, 0, DateTimeKind.Utc) };

        var fields = LetterContent.Fields(order);

        Assert.Equal(["orderId", "product", "price", "customerId", "quantity", "currency", "createdAt", "channel"], fields.Select(f => f.Key));
        Assert.Equal("o-1", fields[0].Value);
        Assert.Equal(9.5, fields[2].Value);
        Assert.Equal("2026-11-25T10:00:00.000Z", fields[6].Value);
    }
}
