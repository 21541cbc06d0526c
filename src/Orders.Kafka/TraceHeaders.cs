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

    /// <summary>The trace context a record's writer left in its headers; default when there is none, or it is not valid W3C.</summary>
    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null || !headers.TryGetLastBytes(TraceParent, out var parent) || parent is null || parent.Length > 128)
        {
            return default;
        }

        string? state = headers.TryGetLastBytes(TraceState, out var stateBytes) && stateBytes is { Length: <= 512 } ? Encoding.ASCII.GetString(stateBytes) : null;
        return ActivityContext.TryParse(Encoding.ASCII.GetString(parent), state, isRemote: true, out var context) ? context : default;
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

    /// <summary>The tags every span about a Kafka record starts with.</summary>
    public static ActivityTagsCollection For(string operation, string operationType, string topic) => new()
    {
        [System] = "kafka",
        [OperationName] = operation,
        [OperationType] = operationType,
        [DestinationName] = topic,
    };

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
