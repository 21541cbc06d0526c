using Confluent.SchemaRegistry;
using Orders.Avro;
using Orders.Contracts;
using Orders.Processor;

namespace Orders.Decoding;

/// <summary>The decoder's compiled plans: one per writer schema id, and the sink that fills an order from one.</summary>
public sealed partial class OrderDecoder
{
    /// <summary>What one writer schema id comes to: a compiled plan, or the reason its records are poison.</summary>
    private sealed class Resolution
    {
        private static readonly RecordSchema Reader = (RecordSchema)AvroSchemaParser.Parse(OrderSchemas.Current);

        private readonly ResolvingReader? _reader;
        private readonly string? _poison;

        static Resolution() => OrderFields.Verify(Reader);

        private Resolution(int schemaId, ResolvingReader? reader, string? poison)
        {
            SchemaId = schemaId;
            _reader = reader;
            _poison = poison;
        }

        public int SchemaId { get; }

        public static Resolution For(int schemaId, Schema registered)
        {
            if (registered.SchemaType != SchemaType.Avro)
            {
                return Poison(schemaId, $"schema id {schemaId} is {registered.SchemaType}, not Avro");
            }

            if (registered.References is { Count: > 0 })
            {
                return Poison(schemaId, $"writer schema {schemaId} has schema references, which this decoder does not resolve");
            }

            if (!AvroSchemaParser.TryParse(registered.SchemaString, out var writer, out var error))
            {
                return Poison(schemaId, $"writer schema {schemaId} is not valid Avro: {error}");
            }

            try
            {
                return ResolvingReader.TryCreate(Reader, writer!, out var reader, out var incompatibilities)
                    ? new Resolution(schemaId, reader, null)
                    : Poison(schemaId, $"writer schema {schemaId} cannot be resolved against order.avsc: {string.Join("; ", incompatibilities.Take(3))}");
            }
            catch (InvalidOperationException e)
            {
                return Poison(schemaId, $"writer schema {schemaId} cannot be resolved against order.avsc: {e.Message}");
            }
        }

        /// <param name="source">The array the Avro data lies in, when the order may read its text from it later (<see cref="Order.ReadLater"/>).</param>
        public Order Decode(ReadOnlySpan<byte> avro, byte[]? source)
        {
            if (_reader is null)
            {
                throw new PoisonRecordException(_poison!);
            }

            var order = new Order();
            if (source is not null)
            {
                order.ReadFrom(source);
            }

            var fields = new OrderFields(order, source);
            try
            {
                _reader.Read(avro, ref fields);
            }
            catch (Exception e) when (e is AvroDecodeException or ArgumentOutOfRangeException)
            {
                throw new PoisonRecordException($"Avro decode error with writer schema {SchemaId}: {e.Message}", e);
            }

            return order;
        }

        private static Resolution Poison(int schemaId, string reason) => new(schemaId, null, reason);
    }

    /// <summary>Puts resolved values into an order's properties, by the field's position in <c>order.avsc</c>.</summary>
    /// <param name="source">The array the values are read from, when the order may read its id, customer id and channel from it later.</param>
    private readonly struct OrderFields(Order order, byte[]? source) : IAvroFieldSink
    {
        private const int OrderId = 0;
        private const int Product = 1;
        private const int Price = 2;
        private const int CustomerId = 3;
        private const int Quantity = 4;
        private const int Currency = 5;
        private const int CreatedAt = 6;
        private const int Channel = 7;

        /// <summary>Fails at start, not on the first record, if order.avsc and these positions part ways.</summary>
        public static void Verify(RecordSchema reader)
        {
            (string Name, AvroType Type)[] expected =
            [
                ("orderId", AvroType.String), ("product", AvroType.String), ("price", AvroType.Double), ("customerId", AvroType.String),
                ("quantity", AvroType.Int), ("currency", AvroType.String), ("createdAt", AvroType.Long), ("channel", AvroType.String),
            ];
            var actual = reader.Fields.Select(f => (f.Name, f.Schema.Type)).ToArray();
            if (!actual.SequenceEqual(expected))
            {
                throw new InvalidOperationException($"order.avsc's fields ({string.Join(", ", actual)}) are not the ones OrderDecoder fills");
            }
        }

        // The id, customer and channel are read when first asked for, from the value they lie in (the
        // aggregate never asks). Product, customer, currency and channel repeat from order to order:
        // pooled, they cost no allocation once seen. Order ids are unique: decoded.
        public void Utf8String(int field, ReadOnlySpan<byte> value)
        {
            if (field is OrderId or CustomerId or Channel && source is not null && source.AsSpan().Overlaps(value, out var start))
            {
                // Positions in order.avsc, which Order's own Put and ReadLater use too.
                order.ReadLater(field, start, value.Length);
                return;
            }

            String(field, field == OrderId ? System.Text.Encoding.UTF8.GetString(value) : Order.Strings.Get(value));
        }

        public void String(int field, string value)
        {
            switch (field)
            {
                case OrderId: order.OrderId = value; break;
                case Product: order.Product = value; break;
                case CustomerId: order.CustomerId = value; break;
                case Currency: order.Currency = value; break;
                case Channel: order.Channel = value; break;
                default: throw Unexpected(field);
            }
        }

        public void Double(int field, double value) => order.Price = field == Price ? value : throw Unexpected(field);

        public void Int(int field, int value) => order.Quantity = field == Quantity ? value : throw Unexpected(field);

        // timestamp-millis, converted as Apache.Avro converts it (so both decoders agree to the tick).
        public void Long(int field, long value) =>
            order.CreatedAt = field == CreatedAt ? DateTime.UnixEpoch.AddMilliseconds(value) : throw Unexpected(field);

        public void Null(int field) => throw Unexpected(field);

        public void Boolean(int field, bool value) => throw Unexpected(field);

        public void Float(int field, float value) => throw Unexpected(field);

        public void Bytes(int field, ReadOnlySpan<byte> value) => throw Unexpected(field);

        public void Enum(int field, int symbol) => throw Unexpected(field);

        private static InvalidOperationException Unexpected(int field) => new($"order.avsc has no field {field} of this type");
    }
}
