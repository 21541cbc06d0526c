using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using Avro.Generic;
using Avro.IO;
using Confluent.SchemaRegistry;
using Orders.Contracts;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// Checkpoint chunks in the Confluent wire format (magic byte, schema id, Avro binary), the
/// schema registered under <c>&lt;topic&gt;_stats-value</c>, so any registry-aware client can read
/// them. Checkpoints are few (one per partition per interval), so this path favours plain code
/// over the order hot path's pooling.
/// </summary>
public sealed class CheckpointSerde(ISchemaRegistryClient registry)
{
    private readonly ConcurrentDictionary<int, GenericDatumReader<GenericRecord>> _readers = new();
    private readonly GenericDatumWriter<GenericRecord> _writer = new(CheckpointCodec.Schema);

    /// <returns>The schema id under which checkpoints are written.</returns>
    /// <exception cref="RegistryUnavailableException">The registry cannot be reached.</exception>
    /// <exception cref="SchemaRegistryException">The registry refused the schema (e.g. 409 incompatible).</exception>
    public async Task<int> RegisterAsync(string statsTopic)
    {
        try
        {
            return await registry.RegisterSchemaAsync($"{statsTopic}-value", new Schema(OrderSchemas.Checkpoint, SchemaType.Avro));
        }
        catch (SchemaRegistryException e) when ((int)e.Status < 500)
        {
            throw;
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new RegistryUnavailableException($"cannot register the checkpoint schema for {statsTopic}: {e.Message}", e);
        }
    }

    public byte[] Serialize(GenericRecord record, int schemaId)
    {
        using var stream = new MemoryStream();
        Span<byte> header = stackalloc byte[5];
        header[0] = 0;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], schemaId);
        stream.Write(header);
        _writer.Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    /// <exception cref="InvalidDataException">The bytes are not a checkpoint chunk (bad magic byte, unknown schema, undecodable).</exception>
    /// <exception cref="RegistryUnavailableException">The writer's schema is needed and the registry cannot be reached.</exception>
    public async ValueTask<CheckpointChunk> DeserializeAsync(byte[]? value)
    {
        if (value is null || value.Length < 5 || value[0] != 0)
        {
            throw new InvalidDataException("not in the Confluent wire format");
        }

        var schemaId = BinaryPrimitives.ReadInt32BigEndian(value.AsSpan(1, 4));
        if (!_readers.TryGetValue(schemaId, out var reader))
        {
            var writer = await WriterSchemaAsync(schemaId);
            try
            {
                reader = new GenericDatumReader<GenericRecord>(writer, CheckpointCodec.Schema);
            }
            catch (global::Avro.AvroException e)
            {
                // A record of another kind under a checkpoint key (an order, say), or a checkpoint schema this version cannot
                // read: not a checkpoint of this processor, so skipped as any undecodable record is, never a crash at every restore.
                throw new InvalidDataException($"schema {schemaId} cannot be read as a checkpoint: {e.Message}", e);
            }

            _readers.TryAdd(schemaId, reader);
        }

        GenericRecord record;
        try
        {
            using var stream = new MemoryStream(value, 5, value.Length - 5, writable: false);
            record = reader.Read(null!, new BinaryDecoder(stream));
        }
        catch (Exception e) when (e is global::Avro.AvroException or EndOfStreamException or InvalidCastException or OverflowException)
        {
            throw new InvalidDataException($"undecodable checkpoint with schema {schemaId}: {e.Message}", e);
        }

        return CheckpointCodec.FromRecord(record);
    }

    private async Task<global::Avro.Schema> WriterSchemaAsync(int schemaId)
    {
        Schema registered;
        try
        {
            registered = await registry.GetSchemaAsync(schemaId);
        }
        catch (SchemaRegistryException e) when (e.ErrorCode == 40403)
        {
            throw new InvalidDataException($"schema id {schemaId} is unknown to the registry", e);
        }
        catch (Exception e) when (IsUnavailable(e))
        {
            throw new RegistryUnavailableException($"registry unreachable fetching checkpoint schema {schemaId}: {e.Message}", e);
        }

        try
        {
            return global::Avro.Schema.Parse(registered.SchemaString);
        }
        catch (Exception e) when (e is global::Avro.AvroException or Newtonsoft.Json.JsonException)
        {
            throw new InvalidDataException($"schema {schemaId} is not a usable Avro schema: {e.Message}", e);
        }
    }

    internal static bool IsUnavailable(Exception e) =>
        e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException or WebException;
}
