using Orders.Avro;
using Orders.Contracts;

namespace Orders.Producer;

/// <summary>A string the generator draws from a fixed set, with its Avro encoding (length, then UTF-8) made once.</summary>
internal sealed class EncodedText
{
    public EncodedText(string value)
    {
        Value = value;
        var length = AvroBinaryWriter.Utf8Length(value);
        Avro = new byte[AvroBinaryWriter.SizeOfString(length)];
        new AvroBinaryWriter(Avro).WriteString(value, length);
    }

    public string Value { get; }

    /// <summary>The value as an Avro string: its UTF-8 length as a varint, then its UTF-8 bytes.</summary>
    public byte[] Avro { get; }

    public static EncodedText[] All(IEnumerable<string> values) => [.. values.Select(v => new EncodedText(v))];
}

/// <summary>
/// An order as <see cref="OrderGenerator"/> draws it: every string one of the generator's own (each
/// with its encoding) and the id a <see cref="Guid"/>. Written to the wire format directly
/// (<see cref="OrderSerializer.ToArray(in DrawnOrder, int)"/>, byte for byte what the <see cref="Order"/> it
/// stands for serializes to), it costs the publisher's generating thread no <see cref="Order"/>, no id
/// string and no UTF-8 encoding per order.
/// </summary>
internal readonly record struct DrawnOrder(
    Guid Id,
    EncodedText Product,
    double Price,
    EncodedText CustomerId,
    int Quantity,
    EncodedText Currency,
    DateTime CreatedAt,
    EncodedText Channel,
    bool Valid)
{
    public Order ToOrder() => new()
    {
        OrderId = Id.ToString(),
        Product = Product.Value,
        Price = Price,
        CustomerId = CustomerId.Value,
        Quantity = Quantity,
        Currency = Currency.Value,
        CreatedAt = CreatedAt,
        Channel = Channel.Value,
    };
}
