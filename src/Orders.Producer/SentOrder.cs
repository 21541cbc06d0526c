using System.Text;
using Confluent.Kafka;

namespace Orders.Producer;

/// <summary>
/// The message key of a published order, with what its delivery report needs: Confluent.Kafka keeps
/// the key (a struct here) until the delivery and hands it back, so the delivery handler counts the
/// order's validity and price without the client keeping the <c>Order</c> itself alive until then
/// (objects that outlive a young-generation collection are what made the publisher's GCs cost).
/// On the wire it is the order id in UTF-8, as before.
/// </summary>
internal readonly record struct SentOrder(byte[] Key, double Price, bool Valid)
{
    public static SentOrder Of(Orders.Contracts.Order order, bool valid) => new(Encoding.UTF8.GetBytes(order.OrderId), order.Price, valid);

    /// <summary>The order id, for a log line about a failed delivery.</summary>
    public string OrderId => Encoding.UTF8.GetString(Key);

    /// <summary>Writes the key as it is: its bytes were encoded once, when the order was sent.</summary>
    public sealed class Serializer : ISerializer<SentOrder>
    {
        public static Serializer Instance { get; } = new();

        public byte[] Serialize(SentOrder data, SerializationContext context) => data.Key;
    }
}
