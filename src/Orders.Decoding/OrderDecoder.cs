using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Net;
using Confluent.SchemaRegistry;
using Orders.Contracts;
using Orders.Processor;
using Orders.RegistryClient;

namespace Orders.Decoding;

/// <summary>
/// Decodes Confluent wire-format values (magic byte 0, big-endian schema id, Avro binary) into
/// <see cref="Order"/>, resolving the writer's schema against <c>order.avsc</c> by the Avro
/// specification's rules. Whether a writer schema is readable is decided by the registry's own
/// compatibility checker (reader = <c>order.avsc</c>, writer = the registered schema), so the
/// processor reads exactly what the registry calls compatible. Each writer schema id is asked of
/// the registry once and compiled into a plan; after that a value decodes synchronously, with no
/// allocation but the order (its id, customer id and channel are read from the value when first asked for; its other strings repeat, and are pooled). It classifies what goes wrong: bytes that can never
/// decode are poison; a registry that cannot be reached is not.
/// </summary>
public sealed partial class OrderDecoder(ISchemaRegistryClient registry)
{
    public const int HeaderLength = 5;

    private readonly ConcurrentDictionary<int, Resolution> _resolutions = new();
    private readonly ConcurrentDictionary<int, Task<Resolution>> _fetching = new();

    // The id most records carry, checked before the dictionary.
    private volatile Resolution? _last;

    /// <summary>
    /// Decodes a record's value; completes synchronously once its writer schema is known. The order
    /// keeps <paramref name="value"/> and reads its id, customer id and channel from it when first
    /// asked (<see cref="Order"/>): the array must never change afterwards, as a consumed record's
    /// value never does.
    /// </summary>
    /// <exception cref="PoisonRecordException">The value can never be an order (in the returned task).</exception>
    /// <exception cref="RegistryUnavailableException">The registry could not be asked for the writer schema (in the returned task).</exception>
    public ValueTask<Order> DecodeAsync(byte[]? value) =>
        value is null
            ? ValueTask.FromException<Order>(new PoisonRecordException($"value is null, not the 5-byte Confluent wire-format header and Avro data"))
            : DecodeAsync(value, value);

    /// <summary>Decodes a value held anywhere (every string of the order is made at once); completes synchronously once its writer schema is known.</summary>
    /// <inheritdoc cref="DecodeAsync(byte[])" path="/exception"/>
    public ValueTask<Order> DecodeAsync(ReadOnlyMemory<byte> value) => DecodeAsync(value, source: null);

    /// <summary>
    /// Decodes a record's value whose writer schema is already resolved (a value earlier passed to
    /// <see cref="DecodeAsync(byte[])"/> or <see cref="ResolveAsync"/> had its id), keeping it as
    /// <see cref="DecodeAsync(byte[])"/> does; returns false, decoding nothing, when it is not yet.
    /// </summary>
    /// <exception cref="PoisonRecordException">The value can never be an order.</exception>
    public bool TryDecode(byte[] value, [NotNullWhen(true)] out Order? order) => TryDecode(value, value, out order);

    /// <summary>As <see cref="TryDecode(byte[], out Order)"/>, for a value held anywhere (every string of the order is made at once).</summary>
    /// <exception cref="PoisonRecordException">The value can never be an order.</exception>
    public bool TryDecode(ReadOnlySpan<byte> value, [NotNullWhen(true)] out Order? order) => TryDecode(value, null, out order);

    /// <summary>Asks the registry for a writer schema and compiles its plan, unless that was done.</summary>
    /// <exception cref="RegistryUnavailableException">The registry could not be asked.</exception>
    public async ValueTask ResolveAsync(int schemaId)
    {
        if (Cached(schemaId) is null)
        {
            // One lookup per id at a time: a caller that stopped waiting for a slow registry (the processor's
            // loop does) leaves its lookup running, and the next caller joins it instead of asking again.
            var fetch = _fetching.GetOrAdd(schemaId, FetchAsync);
            try
            {
                _last = _resolutions.GetOrAdd(schemaId, await fetch);
            }
            finally
            {
                _fetching.TryRemove(new KeyValuePair<int, Task<Resolution>>(schemaId, fetch));
            }
        }
    }

    /// <summary>
    /// Resolves, ahead of the records that carry its id, the schema registered last under
    /// <paramref name="subject"/> (the producer's, nearly always): the first record then decodes at
    /// once instead of waiting for the registry, and the schema's plan is compiled before any record
    /// arrives. Best effort: records of any other id, or of this one if this fails, are resolved when
    /// they come, as always.
    /// </summary>
    /// <returns>The schema id resolved; or null and why not (no such subject, the registry unreachable).</returns>
    public async Task<(int? SchemaId, string? Error)> ResolveLatestAsync(string subject)
    {
        RegisteredSchema latest;
        try
        {
            latest = await registry.GetLatestSchemaAsync(subject);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, e.Message);
        }

        if (Cached(latest.Id) is null)
        {
            // A verdict against a registered schema holds for good, as for one fetched by id: poison is cached too.
            _last = _resolutions.GetOrAdd(latest.Id, Resolution.For(latest.Id, latest));
        }

        return (latest.Id, null);
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

    /// <param name="source">The array <paramref name="value"/> is, when the order may read its text from it later; null to make every string now.</param>
    private ValueTask<Order> DecodeAsync(ReadOnlyMemory<byte> value, byte[]? source)
    {
        try
        {
            var schemaId = ReadHeader(value.Span);
            return Cached(schemaId) is { } resolution
                ? new ValueTask<Order>(resolution.Decode(value.Span[HeaderLength..], source))
                : DecodeAfterResolvingAsync(value, source, schemaId);
        }
        catch (PoisonRecordException e)
        {
            return ValueTask.FromException<Order>(e);
        }
    }

    private bool TryDecode(ReadOnlySpan<byte> value, byte[]? source, [NotNullWhen(true)] out Order? order)
    {
        var resolution = Cached(ReadHeader(value));
        order = resolution?.Decode(value[HeaderLength..], source);
        return order is not null;
    }

    private async ValueTask<Order> DecodeAfterResolvingAsync(ReadOnlyMemory<byte> value, byte[]? source, int schemaId)
    {
        await ResolveAsync(schemaId);
        return Cached(schemaId)!.Decode(value.Span[HeaderLength..], source);
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
            throw new RegistryUnavailableException($"registry answered schema {schemaId}'s lookup with {SchemaRegistryErrors.Describe(e)}", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or TimeoutException or WebException)
        {
            throw new RegistryUnavailableException($"registry unreachable fetching schema {schemaId}: {e.Message}", e);
        }

        // A registered schema never changes, so a verdict against it holds for good: poison is cached too.
        return Resolution.For(schemaId, registered);
    }
}
