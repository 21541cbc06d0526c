using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Orders.Avro;
using Orders.Contracts;

namespace Orders.Producer;

/// <summary>
/// Serializes <see cref="Order"/> in the Confluent wire format (magic byte 0, big-endian schema
/// id, Avro binary), byte for byte as Confluent's <c>AvroSerializer&lt;Order&gt;</c> does with its
/// default configuration: subject <c>{topic}-value</c> (<c>-key</c> for keys), the schema
/// registered on first use. The schema id is asked once per subject; after that a value is one
/// exact-size array written in a single pass (Confluent.Kafka's <see cref="ISerializer{T}"/> must
/// return a fresh array; <see cref="Write(Order, int, IBufferWriter{byte})"/> writes into pooled
/// buffers instead).
/// </summary>
/// <remarks>Unlike Confluent's, the synchronous <see cref="Serialize"/> blocks only on a subject's first use; call <see cref="GetSchemaIdAsync"/> first to avoid even that.</remarks>
public sealed class OrderSerializer(ISchemaRegistryClient registry) : ISerializer<Order>, IAsyncSerializer<Order>
{
    private const int HeaderLength = 5;

    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);

    // The subject most calls serialize for, checked before the dictionary.
    private volatile SubjectId? _last;

    /// <summary>The schema text Confluent's serializer registers for <see cref="Order"/>: Apache.Avro's rendering of <c>order.avsc</c>.</summary>
    public static string SchemaString { get; } = Order._SCHEMA.ToString();

    /// <summary>TopicNameStrategy, Confluent's default.</summary>
    public static string SubjectFor(string topic, bool isKey = false) => isKey ? $"{topic}-key" : Topics.ValueSubjectFor(topic);

    /// <summary>The schema id for the topic's subject, registering the schema on first use (auto-register, as Confluent's default).</summary>
    /// <exception cref="SchemaRegistryException">The registry refused it (409: incompatible with the subject's versions).</exception>
    /// <exception cref="HttpRequestException">The registry could not be reached.</exception>
    public async Task<int> GetSchemaIdAsync(string topic, bool isKey = false)
    {
        var subject = SubjectFor(topic, isKey);
        if (!_ids.TryGetValue(subject, out var id))
        {
            id = await registry.RegisterSchemaAsync(subject, new Schema(SchemaString, SchemaType.Avro), normalize: false).ConfigureAwait(false);
            _ids[subject] = id;
        }

        return id;
    }

    public byte[] Serialize(Order data, SerializationContext context)
    {
        var isKey = context.Component == MessageComponentType.Key;
        var last = _last;
        int id;
        if (last is not null && last.Topic == context.Topic && last.IsKey == isKey)
        {
            id = last.Id;
        }
        else
        {
            // Blocks on the registry once per subject, unless GetSchemaIdAsync came first.
            id = _ids.TryGetValue(SubjectFor(context.Topic, isKey), out var known)
                ? known
                : GetSchemaIdAsync(context.Topic, isKey).GetAwaiter().GetResult();
            _last = new SubjectId(context.Topic, isKey, id);
        }

        return ToArray(data, id);
    }

    public async Task<byte[]> SerializeAsync(Order data, SerializationContext context) =>
        ToArray(data, await GetSchemaIdAsync(context.Topic, context.Component == MessageComponentType.Key).ConfigureAwait(false));

    /// <summary>The value in the wire format, in an array of exactly its size.</summary>
    public static byte[] ToArray(Order order, int schemaId)
    {
        var measured = new Measured(order);
        var bytes = GC.AllocateUninitializedArray<byte>(measured.Size);
        WriteMeasured(order, schemaId, measured, bytes);
        return bytes;
    }

    /// <summary>
    /// A drawn order's value in the wire format, in an array of exactly its size: byte for byte what
    /// <see cref="ToArray(Order, int)"/> writes for <see cref="DrawnOrder.ToOrder"/>, with every string
    /// but the id copied from its encoding and the id formatted straight into UTF-8.
    /// </summary>
    internal static byte[] ToArray(in DrawnOrder order, int schemaId)
    {
        var createdAt = CreatedAtMillis(order.CreatedAt);
        var bytes = GC.AllocateUninitializedArray<byte>(
            HeaderLength
            + AvroBinaryWriter.SizeOfString(SentOrder.KeyLength)
            + order.Product.Avro.Length
            + sizeof(double)
            + order.CustomerId.Avro.Length
            + AvroBinaryWriter.SizeOfLong(order.Quantity)
            + order.Currency.Avro.Length
            + AvroBinaryWriter.SizeOfLong(createdAt)
            + order.Channel.Avro.Length);
        bytes[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), schemaId);
        Span<byte> id = stackalloc byte[SentOrder.KeyLength];
        order.Id.TryFormat(id, out _);
        var writer = new AvroBinaryWriter(bytes.AsSpan(HeaderLength));
        writer.WriteBytes(id);
        writer.WriteRaw(order.Product.Avro);
        writer.WriteDouble(order.Price);
        writer.WriteRaw(order.CustomerId.Avro);
        writer.WriteInt(order.Quantity);
        writer.WriteRaw(order.Currency.Avro);
        writer.WriteLong(createdAt);
        writer.WriteRaw(order.Channel.Avro);
        return bytes;
    }

    /// <summary>The exact size of the value in the wire format.</summary>
    public static int GetSize(Order order) => new Measured(order).Size;

    /// <returns>The number of bytes written.</returns>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is smaller than <see cref="GetSize"/>.</exception>
    public static int Write(Order order, int schemaId, Span<byte> destination)
    {
        var measured = new Measured(order);
        if (destination.Length < measured.Size)
        {
            throw new ArgumentException($"the order needs {measured.Size} bytes; the destination has {destination.Length}", nameof(destination));
        }

        WriteMeasured(order, schemaId, measured, destination);
        return measured.Size;
    }

    /// <summary>Appends the value to a buffer writer (for instance a pooled one), with no array of its own.</summary>
    public static void Write(Order order, int schemaId, IBufferWriter<byte> output)
    {
        var measured = new Measured(order);
        WriteMeasured(order, schemaId, measured, output.GetSpan(measured.Size));
        output.Advance(measured.Size);
    }

    private static void WriteMeasured(Order order, int schemaId, in Measured lengths, Span<byte> destination)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(destination[1..], schemaId);
        var writer = new AvroBinaryWriter(destination[5..]);
        writer.WriteString(order.OrderId, lengths.OrderId);
        writer.WriteString(order.Product, lengths.Product);
        writer.WriteDouble(order.Price);
        writer.WriteString(order.CustomerId, lengths.CustomerId);
        writer.WriteInt(order.Quantity);
        writer.WriteString(order.Currency, lengths.Currency);
        writer.WriteLong(lengths.CreatedAt);
        writer.WriteString(order.Channel, lengths.Channel);
    }

    // timestamp-millis as Apache.Avro converts a DateTime (local times to UTC, sub-milliseconds truncated through a double).
    private static long CreatedAtMillis(DateTime createdAt) => (long)(createdAt.ToUniversalTime() - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>What sizing and writing both need, measured once: the strings' UTF-8 lengths and the timestamp.</summary>
    private readonly struct Measured
    {
        public readonly int OrderId;
        public readonly int Product;
        public readonly int CustomerId;
        public readonly int Currency;
        public readonly int Channel;
        public readonly long CreatedAt;
        public readonly int Size;

        public Measured(Order order)
        {
            OrderId = Length(order.OrderId, nameof(Order.OrderId));
            Product = Length(order.Product, nameof(Order.Product));
            CustomerId = Length(order.CustomerId, nameof(Order.CustomerId));
            Currency = Length(order.Currency, nameof(Order.Currency));
            Channel = Length(order.Channel, nameof(Order.Channel));
            CreatedAt = CreatedAtMillis(order.CreatedAt);
            Size = HeaderLength
                + AvroBinaryWriter.SizeOfString(OrderId)
                + AvroBinaryWriter.SizeOfString(Product)
                + sizeof(double)
                + AvroBinaryWriter.SizeOfString(CustomerId)
                + AvroBinaryWriter.SizeOfLong(order.Quantity)
                + AvroBinaryWriter.SizeOfString(Currency)
                + AvroBinaryWriter.SizeOfLong(CreatedAt)
                + AvroBinaryWriter.SizeOfString(Channel);
        }

        // Apache.Avro refuses null strings too; naming the field helps more than a NullReferenceException.
        private static int Length(string? value, string field) =>
            value is null ? throw new ArgumentException($"Order.{field} is null; Avro strings cannot be null") : AvroBinaryWriter.Utf8Length(value);
    }

    private sealed record SubjectId(string Topic, bool IsKey, int Id);
}
