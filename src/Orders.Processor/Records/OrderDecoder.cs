using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Confluent.SchemaRegistry;
using Orders.Avro;
using Orders.Contracts;
using Orders.Processor.Failures;

namespace Orders.Processor.Records;

/// <summary>
/// Decodes Confluent wire-format values (magic byte 0, big-endian schema id, Avro binary) into
/// <see cref="Order"/>, resolving the writer's schema against <c>order.avsc</c> by the Avro
/// specification's rules. Whether a writer schema is readable is decided by the registry's own
/// compatibility checker (reader = <c>order.avsc</c>, writer = the registered schema), so the
/// processor reads exactly what the registry calls compatible. Each writer schema id is asked of
/// the registry once and compiled into a plan; after that a value decodes synchronously, with no
/// allocation but the order and its id (its other strings repeat, and are pooled). It classifies what goes wrong: bytes that can never
/// decode are poison; a registry that cannot be reached is not.
/// </summary>
public sealed class OrderDecoder(ISchemaRegistryClient registry)
{
    public const int HeaderLength = 5;

    private readonly ConcurrentDictionary<int, Resolution> _resolutions = new();

    // The id most records carry, checked before the dictionary.
    private volatile Resolution? _last;

    /// <summary>Decodes one value; completes synchronously once its writer schema is known.</summary>
    /// <exception cref="PoisonRecordException">The value can never be an order (in the returned task).</exception>
    /// <exception cref="RegistryUnavailableException">The registry could not be asked for the writer schema (in the returned task).</exception>
    public ValueTask<Order> DecodeAsync(byte[]? value) =>
        value is null
            ? ValueTask.FromException<Order>(new PoisonRecordException($"value is null, not the 5-byte Confluent wire-format header and Avro data"))
            : DecodeAsync(new ReadOnlyMemory<byte>(value));

    /// <inheritdoc cref="DecodeAsync(byte[])"/>
    public ValueTask<Order> DecodeAsync(ReadOnlyMemory<byte> value)
    {
        try
        {
            var schemaId = ReadHeader(value.Span);
            return Cached(schemaId) is { } resolution
                ? new ValueTask<Order>(resolution.Decode(value.Span[HeaderLength..]))
                : DecodeAfterResolvingAsync(value, schemaId);
        }
        catch (PoisonRecordException e)
        {
            return ValueTask.FromException<Order>(e);
        }
    }

    /// <summary>
    /// Decodes a value whose writer schema is already resolved (a value earlier passed to
    /// <see cref="DecodeAsync(ReadOnlyMemory{byte})"/> or <see cref="ResolveAsync"/> had its id);
    /// returns false, decoding nothing, when it is not yet.
    /// </summary>
    /// <exception cref="PoisonRecordException">The value can never be an order.</exception>
    public bool TryDecode(ReadOnlySpan<byte> value, [NotNullWhen(true)] out Order? order)
    {
        var resolution = Cached(ReadHeader(value));
        order = resolution?.Decode(value[HeaderLength..]);
        return order is not null;
    }

    /// <summary>Asks the registry for a writer schema and compiles its plan, unless that was done.</summary>
    /// <exception cref="RegistryUnavailableException">The registry could not be asked.</exception>
    public async ValueTask ResolveAsync(int schemaId)
    {
        if (Cached(schemaId) is null)
        {
            _last = _resolutions.GetOrAdd(schemaId, await FetchAsync(schemaId));
        }
    }

    /// <returns>The writer schema id.</returns>
    /// <exception cref="PoisonRecordException">No Confluent wire-format header.</exception>
    public static int ReadHeader(ReadOnlySpan<byte> value)
    {
        if (value.Length < HeaderLength)
        {
            throw new PoisonRecordException($"value has {value.Length} bytes, fewer than the 5-byte Confluent wire-format header");
        }

        if (value[0] != 0)
        {
            throw new PoisonRecordException($"unknown magic byte 0x{value[0]:x2} (expected 0x00)");
        }

        return BinaryPrimitives.ReadInt32BigEndian(value[1..]);
    }

    private Resolution? Cached(int schemaId)
    {
        var last = _last;
        if (last?.SchemaId == schemaId)
        {
            return last;
        }

        if (_resolutions.TryGetValue(schemaId, out var resolution))
        {
            _last = resolution;
            return resolution;
        }

        return null;
    }

    private async ValueTask<Order> DecodeAfterResolvingAsync(ReadOnlyMemory<byte> value, int schemaId)
    {
        await ResolveAsync(schemaId);
        return Cached(schemaId)!.Decode(value.Span[HeaderLength..]);
    }

    private async Task<Resolution> FetchAsync(int schemaId)
    {
        Schema registered;
        try
        {
            registered = await registry.GetSchemaAsync(schemaId);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403)
        {
            // Not cached: an id unknown now is unknown for good only if the registry is the right one.
            throw new PoisonRecordException($"schema id {schemaId} is unknown to the registry", e);
        }
        catch (SchemaRegistryException e)
        {
            throw new RegistryUnavailableException($"registry answered {(int)e.Status} for schema {schemaId}: {e.Message}", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TimeoutException or WebException)
        {
            throw new RegistryUnavailableException($"registry unreachable fetching schema {schemaId}: {e.Message}", e);
        }

        // A registered schema never changes, so a verdict against it holds for good: poison is cached too.
        return Resolution.For(schemaId, registered);
    }

    /// <summary>What one writer schema id comes to: a compiled plan, or the reason its records are poison.</summary>
    private sealed class Resolution
    {
        private static readonly RecordSchema Reader = (RecordSchema)AvroSchemaParser.Parse(OrderSchemas.Current);

        // Shared by every decoder of the process: thread-safe, and the values repeat across topics too.
        private static readonly Utf8StringPool Strings = new();

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

        public Order Decode(ReadOnlySpan<byte> avro)
        {
            if (_reader is null)
            {
                throw new PoisonRecordException(_poison!);
            }

            var order = new Order();
            var fields = new OrderFields(order, Strings);
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
    private readonly struct OrderFields(Order order, Utf8StringPool strings) : IAvroFieldSink
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

        // Product, customer, currency and channel repeat from order to order: pooled, they cost no
        // allocation once seen. Order ids are unique: decoded.
        public void Utf8String(int field, ReadOnlySpan<byte> value) =>
            String(field, field == OrderId ? System.Text.Encoding.UTF8.GetString(value) : strings.Get(value));

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
