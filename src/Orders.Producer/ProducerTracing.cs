using System.Diagnostics;
using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Producer;

/// <summary>
/// The producer's spans: one <c>send</c> span per order (OpenTelemetry messaging conventions), from
/// the hand-over to the client until the broker's acknowledgement, with the partition and offset
/// it landed at; its context goes into the record's <c>traceparent</c>/<c>tracestate</c> headers.
/// With no listener (tracing off) nothing is made: one check per order.
/// </summary>
public static class ProducerTracing
{
    public const string SourceName = "Orders.Producer";

    internal static readonly ActivitySource Source = new(SourceName, typeof(ProducerTracing).Assembly.GetName().Version?.ToString());

    /// <summary>
    /// Starts the send span of one order, a root span (the loop has no trace of its own), and writes
    /// its context into <paramref name="headers"/>. An order whose trace is not sampled gets no span,
    /// only a <c>traceparent</c> that says so, which the processor follows (none with
    /// <c>OpenTelemetry:PropagateUnsampled=false</c>).
    /// </summary>
    /// <returns>The span, or null when tracing is off or the order's trace is not sampled.</returns>
    internal static Activity? StartSend(string topic, in SentOrder order, out Headers? headers)
    {
        headers = null;
        if (!Source.HasListeners())
        {
            return null;
        }

        Span<byte> traceId = stackalloc byte[TraceSampling.TraceIdBytes];
        if (!TraceSampling.SampleRoot(traceId))
        {
            headers = TraceSampling.PropagateUnsampled ? [TraceHeaders.NotSampled(traceId)] : null;
            return null;
        }

        var span = TraceSampling.StartRoot(Source, $"send {topic}", ActivityKind.Producer, traceId);
        if (span is null)
        {
            return null;
        }

        MessagingAttributes.Start(span, "send", "send", topic);
        span.SetTag(MessagingAttributes.MessageKey, order.OrderId);
        headers = [];
        TraceHeaders.Inject(span, headers);
        return span;
    }

    /// <summary>Ends the send span with what the broker said.</summary>
    internal static void Delivered(Activity span, Error error, TopicPartitionOffset at)
    {
        if (error.IsError)
        {
            span.SetStatus(ActivityStatusCode.Error, error.Reason);
            span.SetTag(MessagingAttributes.ErrorType, error.Code.ToString());
        }
        else if (span.IsAllDataRequested)
        {
            span.SetTag(MessagingAttributes.PartitionId, at.Partition.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            span.SetTag(MessagingAttributes.Offset, at.Offset.Value);
        }

        span.Stop();
    }
}
