using System.Buffers;
using System.Text;
using Avro;
using Avro.Specific;
using Orders.Avro;

namespace Orders.Contracts;

/// <summary>
/// The specific record for <c>order.avsc</c> (written by hand; the schema is read from the
/// embedded file, so the two cannot drift). Confluent's Avro serdes use <see cref="_SCHEMA"/>.
/// </summary>
/// <remarks>
/// An order decoded from a record's value may keep its id, customer id and channel as the UTF-8
/// text of that value (<see cref="ReadFrom"/>), made strings when first read: the aggregate never
/// reads them, and making them was a fifth of decoding, validating and aggregating an order. Reading one is safe from any
/// thread (two threads reading at once may each make it). The validator checks the id on its bytes.
/// </remarks>
public sealed class Order : ISpecificRecord
{
    // The bytes of ASCII that char.IsWhiteSpace calls white space.
    private static readonly SearchValues<byte> AsciiWhiteSpace =
        SearchValues.Create([.. Enumerable.Range(0, 128).Where(c => char.IsWhiteSpace((char)c)).Select(c => (byte)c)]);

    private static readonly Utf8Span Nowhere = new(0, -1);

    private string? _orderId = "";
    private string? _customerId = "";
    private string? _channel = "unknown";

    // Set once, as the order is decoded (before anyone else sees it): the value its text is read from, and where.
    private byte[]? _source;
    private Utf8Span _orderIdAt = Nowhere;
    private Utf8Span _customerIdAt = Nowhere;
    private Utf8Span _channelAt = Nowhere;

    // Apache.Avro and Confluent's serdes look this field up by name.
#pragma warning disable CA1707, CA2211, IDE1006
    public static Schema _SCHEMA = Schema.Parse(OrderSchemas.Current);
#pragma warning restore CA1707, CA2211, IDE1006

    public string OrderId
    {
        get => _orderId ?? Read(ref _orderId, _orderIdAt, pooled: false)!;
        set => (_orderId, _orderIdAt) = (value, Nowhere);
    }

    public string Product { get; set; } = "";
    public double Price { get; set; }

    public string CustomerId
    {
        get => _customerId ?? Read(ref _customerId, _customerIdAt, pooled: true)!;
        set => (_customerId, _customerIdAt) = (value, Nowhere);
    }

    public int Quantity { get; set; } = 1;
    public string Currency { get; set; } = "EUR";
    public DateTime CreatedAt { get; set; } = DateTime.UnixEpoch;

    public string Channel
    {
        get => _channel ?? Read(ref _channel, _channelAt, pooled: true)!;
        set => (_channel, _channelAt) = (value, Nowhere);
    }

    public Schema Schema => _SCHEMA;

    /// <summary>
    /// The strings of decoded orders' text that repeats (products, currencies, customers, channels):
    /// one pool for every decoder of the process (thread-safe), since the values repeat across topics too.
    /// </summary>
    internal static Utf8StringPool Strings { get; } = new();

    /// <summary>
    /// For the decoder, before it decodes the order: the value its text lies in (<see cref="ReadLater"/>),
    /// which must never change afterwards (a consumed record's value never does).
    /// </summary>
    internal void ReadFrom(byte[] source) => _source = source;

    /// <summary>
    /// For the decoder, as it decodes the order: the field at <paramref name="fieldPos"/> (as in
    /// <see cref="Put"/>: the id, the customer id or the channel) is the UTF-8 text at
    /// <paramref name="start"/> of the value given to <see cref="ReadFrom"/>, <paramref name="length"/>
    /// bytes long, made a string when first read (through <see cref="Strings"/>, but for the id, which
    /// never repeats).
    /// </summary>
    internal void ReadLater(int fieldPos, int start, int length)
    {
        if (_source is null || (uint)start + (ulong)(uint)length > (ulong)_source.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"{start} + {length} bytes are not inside the value the order is read from");
        }

        var at = new Utf8Span(start, length);
        switch (fieldPos)
        {
            case 0: (_orderId, _orderIdAt) = (null, at); break;
            case 3: (_customerId, _customerIdAt) = (null, at); break;
            case 7: (_channel, _channelAt) = (null, at); break;
            default: throw new AvroRuntimeException($"Field {fieldPos} of Order is not read later");
        }
    }

    /// <summary>
    /// Whether the id is 1 to <paramref name="maxLength"/> characters, not all white space (the
    /// validator's rule): on its bytes while it is ASCII text not yet read, else on its string.
    /// </summary>
    internal bool HasIdOfAtMost(int maxLength)
    {
        if (_orderId is null && _source is not null && _orderIdAt.Length >= 0)
        {
            var utf8 = _source.AsSpan(_orderIdAt.Start, _orderIdAt.Length);
            if (Ascii.IsValid(utf8))
            {
                // One char per byte; empty has nothing but white space.
                return utf8.Length <= maxLength && utf8.ContainsAnyExcept(AsciiWhiteSpace);
            }
        }

        var id = OrderId;
        return !string.IsNullOrWhiteSpace(id) && id.Length <= maxLength;
    }

    /// <returns>The field's string, now kept; null where it has no text to read (it was set to null).</returns>
    private string? Read(ref string? field, Utf8Span at, bool pooled)
    {
        if (_source is null || at.Length < 0)
        {
            return null;
        }

        var utf8 = _source.AsSpan(at.Start, at.Length);
        return field = pooled ? Strings.Get(utf8) : Encoding.UTF8.GetString(utf8);
    }

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

/// <summary>Where a text lies in a value: a length of -1 for none.</summary>
internal readonly record struct Utf8Span(int Start, int Length);
