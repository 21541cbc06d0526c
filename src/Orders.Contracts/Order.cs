using Avro;
using Avro.Specific;

namespace Orders.Contracts;

/// <summary>
/// The specific record for <c>order.avsc</c> (written by hand; the schema is read from the
/// embedded file, so the two cannot drift). Confluent's Avro serdes use <see cref="_SCHEMA"/>.
/// </summary>
public sealed class Order : ISpecificRecord
{
    // Apache.Avro and Confluent's serdes look this field up by name.
#pragma warning disable CA1707, CA2211, IDE1006
    public static Schema _SCHEMA = Schema.Parse(OrderSchemas.Current);
#pragma warning restore CA1707, CA2211, IDE1006

    public string OrderId { get; set; } = "";
    public string Product { get; set; } = "";
    public double Price { get; set; }
    public string CustomerId { get; set; } = "";
    public int Quantity { get; set; } = 1;
    public string Currency { get; set; } = "EUR";
    public DateTime CreatedAt { get; set; } = DateTime.UnixEpoch;
    public string Channel { get; set; } = "unknown";

    public Schema Schema => _SCHEMA;

    /// <summary>Quantity times unit price.</summary>
    public double Total => Quantity * Price;

    public object Get(int fieldPos) => fieldPos switch
    {
        0 => OrderId,
        1 => Product,
        2 => Price,
        3 => CustomerId,
        4 => Quantity,
        5 => Currency,
        6 => CreatedAt,
        7 => Channel,
        _ => throw new AvroRuntimeException($"Bad index {fieldPos} in Order.Get()"),
    };

    public void Put(int fieldPos, object fieldValue)
    {
        switch (fieldPos)
        {
            case 0: OrderId = (string)fieldValue; break;
            case 1: Product = (string)fieldValue; break;
            case 2: Price = Convert.ToDouble(fieldValue, System.Globalization.CultureInfo.InvariantCulture); break;
            case 3: CustomerId = (string)fieldValue; break;
            case 4: Quantity = (int)fieldValue; break;
            case 5: Currency = (string)fieldValue; break;
            case 6: CreatedAt = (DateTime)fieldValue; break;
            case 7: Channel = (string)fieldValue; break;
            default: throw new AvroRuntimeException($"Bad index {fieldPos} in Order.Put()");
        }
    }
}
