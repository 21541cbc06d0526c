using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Avro.IO;
using Avro.Specific;
using Confluent.SchemaRegistry;
using Orders.Contracts;

namespace Orders.Processor;

/// <summary>
/// Decodes Confluent wire-format values (magic byte 0, big-endian schema id, Avro binary) into
/// <see cref="Order"/>, resolving the writer's schema against the current one. It classifies what
/// goes wrong: bytes that can never decode are poison; a registry that cannot be reached is not.
/// </summary>
public sealed class OrderDecoder(ISchemaRegistryClient registry)
{
    private const int HeaderLength = 5;
    private readonly ConcurrentDictionary<int, SpecificDatumReader<Order>> _readers = new();

    public async ValueTask<Order> DecodeAsync(byte[]? value)
    {
        if (value is null || value.Length < HeaderLength)
        {
            throw new PoisonRecordException($"value has {value?.Length ?? 0} bytes, fewer than the 5-byte Confluent wire-format header");
        }

        if (value[0] != 0)
        {
            throw new PoisonRecordException($"unknown magic byte 0x{value[0]:x2} (expected 0x00)");
        }

        var schemaId = BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4));
        if (!_readers.TryGetValue(schemaId, out var reader))
        {
            reader = await CreateReaderAsync(schemaId);
            _readers.TryAdd(schemaId, reader);
        }

        using var stream = new MemoryStream(value, HeaderLength, value.Length - HeaderLength, writable: false);
        Order order;
        try
        {
            order = reader.Read(null!, new BinaryDecoder(stream));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new PoisonRecordException($"Avro decode error with writer schema {schemaId}: {e.Message}", e);
        }

        if (stream.Position != stream.Length)
        {
            throw new PoisonRecordException($"{stream.Length - stream.Position} bytes left over after decoding with writer schema {schemaId}");
        }

        return order;
    }

    private async Task<SpecificDatumReader<Order>> CreateReaderAsync(int schemaId)
    {
        Schema registered;
        try
        {
            registered = await registry.GetSchemaAsync(schemaId);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403)
        {
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

        if (registered.SchemaType != SchemaType.Avro)
        {
            throw new PoisonRecordException($"schema id {schemaId} is {registered.SchemaType}, not Avro");
        }

        try
        {
            return new SpecificDatumReader<Order>(Avro.Schema.Parse(registered.SchemaString), Order._SCHEMA);
        }
        catch (Exception e) when (e is Avro.AvroException or Newtonsoft.Json.JsonException)
        {
            throw new PoisonRecordException($"writer schema {schemaId} cannot be used to read an Order: {e.Message}", e);
        }
    }
}
