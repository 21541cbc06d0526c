using System.Diagnostics;
using System.Text;
using Confluent.Kafka;

namespace Orders.Kafka;

/// <summary>
/// W3C trace context in Kafka record headers (<c>traceparent</c>, <c>tracestate</c>), as KafkaFlow,
/// MassTransit and Spring Kafka carry it, and the OpenTelemetry messaging attribute names the
/// project's spans use. Nothing here runs unless a span exists: with tracing off, records carry no
/// trace headers and no span is made.
/// </summary>
public static class TraceHeaders
{
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    /// <summary>Writes the span's context into the headers (replacing any there), so that whoever reads the record continues its trace.</summary>
    public static void Inject(Activity activity, Headers headers)
    {
        headers.Remove(TraceParent);
        headers.Remove(TraceState);
        headers.Add(TraceParent, Encoding.ASCII.GetBytes(activity.Id!));
        if (activity.TraceStateString is { Length: > 0 } state)
        {
            headers.Add(TraceState, Encoding.ASCII.GetBytes(state));
        }
    }

    /// <summary>The trace context a record's writer left in its headers; default when there is none, or it is not valid W3C. Reads the bytes in place.</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null || headers.Count == 0 || !headers.TryGetLastBytes(TraceParent, out var parent) || !TryParse(parent, out var traceId, out var spanId, out var flags))
        {
            return default;
        }

        string? state = headers.TryGetLastBytes(TraceState, out var stateBytes) && stateBytes is { Length: > 0 and <= 512 } ? Encoding.ASCII.GetString(stateBytes) : null;
        return new ActivityContext(traceId, spanId, flags, state, isRemote: true);
    }

    /// <summary>Reads a record's <c>traceparent</c> in place: its trace id's bytes into <paramref name="traceId"/> (16 bytes) and its flags, without allocating.</summary>
    /// <returns>False when there is none, or it is not valid W3C.</returns>
    public static bool TryReadParent(Headers? headers, Span<byte> traceId, out ActivityTraceFlags flags)
    {
        flags = default;
        if (headers is null || headers.Count == 0 || !headers.TryGetLastBytes(TraceParent, out var parent) || !IsValid(parent))
        {
            return false;
        }

        Convert.FromHexString(parent.AsSpan(3, 32), traceId[..16], out _, out _);
        flags = (ActivityTraceFlags)(HexValue(parent[53]) * 16 + HexValue(parent[54]));
        return true;
    }

    /// <summary>The <c>traceparent</c> of a trace that is not sampled: its id, a span id of its own, the sampled flag off.</summary>
    public static Header NotSampled(ReadOnlySpan<byte> traceId)
    {
        var bytes = new byte[55];
        "00-"u8.CopyTo(bytes);
        Hex(traceId[..16], bytes.AsSpan(3, 32));
        bytes[35] = (byte)'-';
        Span<byte> spanId = stackalloc byte[8];
        do
        {
            Random.Shared.NextBytes(spanId);
        }
        while (spanId.IndexOfAnyExcept((byte)0) < 0);

        Hex(spanId, bytes.AsSpan(36, 16));
        "-00"u8.CopyTo(bytes.AsSpan(52));
        return new Header(TraceParent, bytes);
    }

    /// <summary>W3C trace context: <c>version-traceid-spanid-flags</c>, lowercase hex, ids not all zeros; later versions may add fields after.</summary>
    private static bool TryParse(byte[]? value, out ActivityTraceId traceId, out ActivitySpanId spanId, out ActivityTraceFlags flags)
    {
        traceId = default;
        spanId = default;
        flags = default;
        if (!IsValid(value))
        {
            return false;
        }

        traceId = ActivityTraceId.CreateFromUtf8String(value.AsSpan(3, 32));
        spanId = ActivitySpanId.CreateFromUtf8String(value.AsSpan(36, 16));
        flags = (ActivityTraceFlags)(HexValue(value[53]) * 16 + HexValue(value[54]));
        return true;
    }

    private static bool IsValid([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] byte[]? value) =>
        value is not null && value.Length >= 55 && value.Length <= 128 && (value.Length == 55 || value[55] == '-') &&
        value[2] == '-' && value[35] == '-' && value[52] == '-' && IsHex(value.AsSpan(0, 2)) && !(value[0] == 'f' && value[1] == 'f') &&
        !(value[0] == '0' && value[1] == '0' && value.Length != 55) &&
        IsHex(value.AsSpan(3, 32)) && IsHex(value.AsSpan(36, 16)) && IsHex(value.AsSpan(53, 2)) &&
        value.AsSpan(3, 32).IndexOfAnyExcept((byte)'0') >= 0 && value.AsSpan(36, 16).IndexOfAnyExcept((byte)'0') >= 0;

    private static bool IsHex(ReadOnlySpan<byte> text) => text.IndexOfAnyExcept("0123456789abcdef"u8) < 0;

    private static int HexValue(byte c) => c <= '9' ? c - '0' : c - 'a' + 10;

    private static void Hex(ReadOnlySpan<byte> bytes, Span<byte> text)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            text[2 * i] = (byte)"0123456789abcdef"[bytes[i] >> 4];
            text[(2 * i) + 1] = (byte)"0123456789abcdef"[bytes[i] & 0xf];
        }
    }
}

/// <summary>Span attribute names of OpenTelemetry's messaging conventions (Kafka), and the project's own.</summary>
public static class MessagingAttributes
{
    public const string System = "messaging.system";
    public const string OperationName = "messaging.operation.name";
    public const string OperationType = "messaging.operation.type";
    public const string DestinationName = "messaging.destination.name";
    public const string PartitionId = "messaging.destination.partition.id";
    public const string ConsumerGroup = "messaging.consumer.group.name";
    public const string MessageKey = "messaging.kafka.message.key";
    public const string Offset = "messaging.kafka.offset";
    public const string ErrorType = "error.type";

    /// <summary>What became of a record: processed, invalid, poison, retries-exhausted (the dead-letter reasons), or why it was left to be read again.</summary>
    public const string Outcome = "orders.outcome";

    /// <summary>Sets the tags every span about a Kafka record has (after the sampling decision: nothing is built for a span not recorded).</summary>
    public static void Start(Activity span, string operation, string operationType, string topic)
    {
        if (!span.IsAllDataRequested)
        {
            return;
        }

        span.SetTag(System, "kafka");
        span.SetTag(OperationName, operation);
        span.SetTag(OperationType, operationType);
        span.SetTag(DestinationName, topic);
    }

    /// <summary>The key as text when it is UTF-8 (the orders' keys are their ids); null otherwise.</summary>
    public static string? KeyText(byte[]? key)
    {
        if (key is null || key.Length > 256)
        {
            return null;
        }

        try
        {
            return StrictUtf8.GetString(key);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
