using System.Buffers.Binary;

namespace Orders.LocalStack.Kafka.Protocol;

/// <summary>
/// Which API versions each broker behind the relay answers: the mock's own (from its ApiVersions
/// response) plus those the relay serves itself. Decides, from a request's first bytes, where it goes.
/// </summary>
internal sealed class ApiSupport
{
    /// <summary>Frames above this are refused, as the mock refuses them (its receive.message.max.bytes default).</summary>
    public const int MaxFrameSize = 100_000_000;

    /// <summary>The smallest request the mock accepts: a header with an empty client id (size field excluded).</summary>
    private const int MinRequestSize = 10;

    private readonly Dictionary<short, (short Min, short Max)> _mock;
    private readonly Dictionary<short, (short Min, short Max)> _local;

    /// <param name="produceLimits">Topics whose produced batches are checked against their <c>max.message.bytes</c>; null: none ever are.</param>
    public ApiSupport(IReadOnlyDictionary<short, (short Min, short Max)> mock, IReadOnlyDictionary<short, (short Min, short Max)> local, IProduceLimits? produceLimits = null)
    {
        _mock = new(mock);
        _local = new(local);
        ProduceLimits = produceLimits;

        // The mock advertises LeaveGroup v0-v4 but reads and answers every version in the v0-v2 layout
        // (no members array): KafkaJS fails to parse its v3 answer and the member stays in the group
        // until its session times out. Offering v2 at most makes clients use a layout the mock gets right.
        if (_mock.TryGetValue((short)KafkaApiKey.LeaveGroup, out var leaveGroup) && leaveGroup.Max > 2)
        {
            _mock[(short)KafkaApiKey.LeaveGroup] = (leaveGroup.Min, Math.Max(leaveGroup.Min, (short)2));
        }
        foreach (var key in _local.Keys)
        {
            _mock.Remove(key);
        }
    }

    /// <summary>Every API the clients of the relay see, in key order.</summary>
    public IEnumerable<(short ApiKey, short Min, short Max)> Advertised =>
        _mock.Concat(_local).Select(p => (p.Key, p.Value.Min, p.Value.Max)).OrderBy(a => a.Key);

    public bool ServesLocally(short apiKey) => _local.ContainsKey(apiKey);

    public IProduceLimits? ProduceLimits { get; }

    /// <summary>Looks at the start of a request frame (as much of it as has arrived) and decides its route.</summary>
    public RequestRoute Route(ReadOnlySpan<byte> available, out RequestInfo request)
    {
        request = default;
        if (available.Length < 4)
        {
            return RequestRoute.NeedMore;
        }

        var size = BinaryPrimitives.ReadInt32BigEndian(available);
        if (size is < MinRequestSize or > MaxFrameSize - 4)
        {
            request = new RequestInfo(-1, -1, 0, 0, $"a request frame of {size} bytes (allowed: {MinRequestSize} to {MaxFrameSize - 4})");
            return RequestRoute.Reject;
        }

        if (available.Length < RequestHeader.FixedLength)
        {
            return RequestRoute.NeedMore;
        }

        var apiKey = BinaryPrimitives.ReadInt16BigEndian(available[4..]);
        var apiVersion = BinaryPrimitives.ReadInt16BigEndian(available[6..]);
        var correlationId = BinaryPrimitives.ReadInt32BigEndian(available[8..]);
        request = new RequestInfo(apiKey, apiVersion, correlationId, size + 4, null);

        if (_local.TryGetValue(apiKey, out var local))
        {
            return InRange(apiVersion, local) ? RequestRoute.Serve : Reject(ref request, $"{Name(apiKey)} v{apiVersion}, which is not supported (v{local.Min} to v{local.Max})");
        }

        if (!_mock.TryGetValue(apiKey, out var mock))
        {
            return Reject(ref request, $"unknown or unsupported API key {apiKey}");
        }

        // ApiVersions answers any version (with UNSUPPORTED_VERSION and the supported range); anything else
        // out of range would make the mock drop the connection anyway.
        if (apiKey != (short)KafkaApiKey.ApiVersions && !InRange(apiVersion, mock))
        {
            return Reject(ref request, $"{Name(apiKey)} v{apiVersion}, which is not supported (v{mock.Min} to v{mock.Max})");
        }

        if (apiKey != (short)KafkaApiKey.Produce)
        {
            return RequestRoute.Forward;
        }

        if (ProduceLimits?.Any == true)
        {
            return RequestRoute.Inspect;
        }

        // A produce request with acks=0 gets no response: it must not wait in line for one.
        var frame = available[4..Math.Min(available.Length, size + 4)];
        try
        {
            var reader = new KafkaReader(frame);
            var header = RequestHeader.Read(ref reader);
            if (header.ApiVersion >= 3)
            {
                _ = reader.ReadNullableString(header.IsFlexible);
            }

            return reader.ReadInt16() == 0 ? RequestRoute.ForwardWithoutResponse : RequestRoute.Forward;
        }
        catch (KafkaProtocolException e)
        {
            return available.Length >= size + 4 ? Reject(ref request, $"a malformed {Name(apiKey)} request: {e.Message}") : RequestRoute.NeedMore;
        }
    }

    /// <summary>
    /// Adds the APIs served locally to the mock's ApiVersions response. Error responses (an unsupported
    /// request version, answered in v0 layout whatever was asked) pass unchanged.
    /// </summary>
    /// <returns>The rewritten frame, or null to pass the original.</returns>
    public byte[]? RewriteApiVersions(ReadOnlySpan<byte> frame, short requestVersion)
    {
        try
        {
            // Response header v0 (correlation id only) for every version: clients must read it before knowing the version.
            var reader = new KafkaReader(frame[4..]);
            var correlationId = reader.ReadInt32();
            var errorCode = reader.ReadInt16();
            if (errorCode != 0)
            {
                return null;
            }

            var flexible = requestVersion >= 3;
            var count = reader.ReadArrayLength(flexible);
            for (var i = 0; i < count; i++)
            {
                reader.Skip(6);
                if (flexible)
                {
                    reader.SkipTaggedFields();
                }
            }

            var rest = frame[(4 + reader.Position)..];
            var writer = KafkaWriter.Response(correlationId, flexibleHeader: false);
            writer.WriteInt16(0);
            var advertised = Advertised.ToList();
            writer.WriteArrayLength(advertised.Count, flexible);
            foreach (var (apiKey, min, max) in advertised)
            {
                writer.WriteInt16(apiKey);
                writer.WriteInt16(min);
                writer.WriteInt16(max);
                writer.EndStruct(flexible);
            }

            // Throttle time and, in v3+, the top-level tagged fields: kept as the mock wrote them.
            writer.WriteBytes(rest);
            return writer.ToFrame();
        }
        catch (KafkaProtocolException)
        {
            return null;
        }
    }

    /// <summary>Parses an ApiVersions v0-v2 response body (after the correlation id) into a version table.</summary>
    public static Dictionary<short, (short Min, short Max)> ParseApiVersions(ReadOnlySpan<byte> body)
    {
        var reader = new KafkaReader(body);
        var error = reader.ReadInt16();
        if (error != 0)
        {
            throw new KafkaProtocolException($"the mock answered ApiVersions with error {error}");
        }

        var table = new Dictionary<short, (short, short)>();
        var count = reader.ReadArrayLength(compact: false);
        for (var i = 0; i < count; i++)
        {
            table[reader.ReadInt16()] = (reader.ReadInt16(), reader.ReadInt16());
        }

        return table;
    }

    public static string Name(short apiKey) =>
        Enum.IsDefined((KafkaApiKey)apiKey) ? $"{(KafkaApiKey)apiKey} ({apiKey})" : $"API {apiKey}";

    private static bool InRange(short version, (short Min, short Max) range) => version >= range.Min && version <= range.Max;

    private static RequestRoute Reject(ref RequestInfo request, string reason)
    {
        request = request with { RejectReason = reason };
        return RequestRoute.Reject;
    }
}

internal enum RequestRoute
{
    /// <summary>Not enough of the frame has arrived to decide.</summary>
    NeedMore,

    /// <summary>To the mock; its response is matched by correlation id.</summary>
    Forward,

    /// <summary>To the mock, which sends no response (a produce request with acks=0).</summary>
    ForwardWithoutResponse,

    /// <summary>Answered by the relay itself, once the whole frame has arrived.</summary>
    Serve,

    /// <summary>A produce request while a topic has a <c>max.message.bytes</c>: read whole, then forwarded without what is too large (<see cref="ProduceSizes"/>).</summary>
    Inspect,

    /// <summary>Not a request any broker here understands: the connection is closed, as Kafka does.</summary>
    Reject,
}

internal readonly record struct RequestInfo(short ApiKey, short ApiVersion, int CorrelationId, int FrameLength, string? RejectReason);
