using Confluent.Kafka;

namespace Orders.Producer;

/// <summary>
/// The message key of a published order, with what its delivery report needs. Confluent.Kafka keeps
/// the key until the delivery and hands it back, so the delivery handler counts the order's validity,
/// price, quantity and currency from it. It is a struct of plain values (the id as a <see cref="Guid"/>,
/// not a string or bytes; the currency is the generator's own constant string): while an order waits
/// for its acknowledgement the client holds nothing of ours on the heap, because objects that outlive
/// a young-generation collection are what made the publisher's GCs cost.
/// On the wire it is the order id in UTF-8, as before.
/// </summary>
internal readonly record struct SentOrder(Guid Id, double Price, int Quantity, string Currency, bool Valid)
{
    /// <summary>The order's send span while it waits for its acknowledgement; null with tracing off.</summary>
    public System.Diagnostics.Activity? Span { get; init; }

    /// <summary>The order id's length in UTF-8: a Guid's "D" format.</summary>
    public const int KeyLength = 36;

    /// <summary>The order id, as <c>Order.OrderId</c> holds it, for a log line about a failed delivery.</summary>
    public string OrderId => Id.ToString();

    /// <summary>Writes the id as <c>Order.OrderId</c> reads, in UTF-8, into an array that dies as soon as the client copied it.</summary>
    public sealed class Serializer : ISerializer<SentOrder>
    {
        public static Serializer Instance { get; } = new();

        public byte[] Serialize(SentOrder data, SerializationContext context)
        {
            var key = GC.AllocateUninitializedArray<byte>(KeyLength);
            data.Id.TryFormat(key, out _);
            return key;
        }
    }
}
