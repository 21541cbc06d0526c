using System.Text;
using Orders.Contracts;

namespace Orders.Contracts.UnitTests;

/// <summary>An order whose id, customer id and channel are read from the value they were decoded from, when first asked for.</summary>
public sealed class OrderTextTests
{
    [Fact]
    public void TextReadLater_ReadsAsTheUtf8ItLiesIn_TheIdAsANewString_TheOthersPooled()
    {
        var first = Decoded("o-1", "c-7", "web");
        var second = Decoded("o-2", "c-7", "web");

        Assert.Equal(("o-1", "c-7", "web"), (first.OrderId, first.CustomerId, first.Channel));
        Assert.Equal(("o-2", "c-7", "web"), (second.OrderId, second.CustomerId, second.Channel));
        Assert.Same(first.CustomerId, second.CustomerId);
        Assert.Same(first.Channel, second.Channel);
        Assert.Same(first.OrderId, first.OrderId);
    }

    [Fact]
    public void TextReadLater_IsReadWhenFirstAskedFor_ThenKept()
    {
        var (order, value) = DecodedWithValue("o-1", "c-7", "web");

        value[4] = (byte)'X';
        var id = order.OrderId;
        value[4] = (byte)'Y';

        Assert.Equal("oX1", id);
        Assert.Equal("oX1", order.OrderId);
    }

    [Fact]
    public void ASet_ReplacesTextReadLater_NullIncluded()
    {
        var order = Decoded("o-1", "c-7", "web");

        order.OrderId = "o-9";
        order.CustomerId = null!;
        order.Channel = "app";

        Assert.Equal(("o-9", null, "app"), (order.OrderId, (string?)order.CustomerId, order.Channel));
    }

    [Fact]
    public void ANewOrder_HasTheSchemasDefaults()
    {
        var order = new Order();

        Assert.Equal(("", "", "unknown"), (order.OrderId, order.CustomerId, order.Channel));
    }

    [Theory]
    [InlineData("o-1", true)]
    [InlineData("", false)]
    [InlineData("   ", false)]
    [InlineData(" \t\r\n\v\f", false)]
    [InlineData(" x ", true)]
    [InlineData("é", true)]
    [InlineData("\u00a0\u2003", false)]
    [InlineData("\u00a0x", true)]
    public void HasIdOfAtMost_OnTheBytes_IsTheStringsRule(string id, bool valid)
    {
        Assert.Equal(valid, Decoded(id, "c", "web").HasIdOfAtMost(OrderValidator.MaxIdLength));
        Assert.Equal(valid, new Order { OrderId = id }.HasIdOfAtMost(OrderValidator.MaxIdLength));
    }

    [Fact]
    public void HasIdOfAtMost_OnTheBytes_AgreesWithTheString_ForEveryAsciiCharacter()
    {
        for (var c = 0; c < 128; c++)
        {
            var id = ((char)c).ToString();
            Assert.True(!string.IsNullOrWhiteSpace(id) == Decoded(id, "c", "web").HasIdOfAtMost(OrderValidator.MaxIdLength), $"U+{c:X4}");
        }
    }

    [Theory]
    [InlineData(64, true)]
    [InlineData(65, false)]
    public void HasIdOfAtMost_CountsCharacters_NotBytes(int length, bool valid)
    {
        // 'é' is two bytes of UTF-8 and one character.
        Assert.Equal(valid, Decoded(new string('a', length), "c", "web").HasIdOfAtMost(OrderValidator.MaxIdLength));
        Assert.Equal(valid, Decoded(new string('é', length), "c", "web").HasIdOfAtMost(OrderValidator.MaxIdLength));
    }

    [Fact]
    public void Validate_NamesAnIdReadLater_InItsMessage()
    {
        var order = Decoded(" ", "c", "web");
        order.Product = "mug";
        order.Price = 1;

        Assert.Equal("orderId must be 1 to 64 characters, not ' '", OrderValidator.Validate(order));
    }

    [Fact]
    public void ReadLater_OutsideItsValue_WithoutOne_OrOfAFieldNotReadLater_IsRefused()
    {
        var order = new Order();
        Assert.Throws<ArgumentOutOfRangeException>(() => order.ReadLater(0, 0, 1));

        order.ReadFrom(new byte[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => order.ReadLater(0, 2, 3));
        Assert.Throws<global::Avro.AvroRuntimeException>(() => order.ReadLater(1, 0, 1));
        Assert.Equal(("", ""), (order.OrderId, order.Product));
    }

    private Order Decoded(string id, string customer, string channel) => DecodedWithValue(id, customer, channel).Order;

    /// <summary>As the decoder leaves an order: its three texts lie in one value, after a few bytes of something else.</summary>
    private (Order Order, byte[] Value) DecodedWithValue(string id, string customer, string channel)
    {
        var texts = new[] { id, customer, channel }.Select(Encoding.UTF8.GetBytes).ToArray();
        var value = new byte[3 + texts.Sum(t => t.Length + 1)];
        var order = new Order();
        order.ReadFrom(value);
        var at = 3;
        foreach (var (text, field) in texts.Zip([0, 3, 7]))
        {
            text.CopyTo(value, at);
            order.ReadLater(field, at, text.Length);
            at += text.Length + 1;
        }

        return (order, value);
    }
}
