using System.Diagnostics;
using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.DeadLetters;

/// <summary>
/// The replay's spans: one <c>send</c> span per replayed record, a root of its own trace, linked to
/// the trace the record first belonged to (its dead letter keeps the original <c>traceparent</c>);
/// the replayed record carries the new span's context, so its processing joins the replay's trace.
/// With no listener (tracing off) nothing is made and the headers stay as the dead letter had them.
/// </summary>
public static class ReplayTracing
{
    public const string SourceName = "Orders.DeadLetters";

    internal static readonly ActivitySource Source = new(SourceName, typeof(ReplayTracing).Assembly.GetName().Version?.ToString());

    /// <summary>Starts the replay's send span of a dead letter and writes its context into the message to publish.</summary>
    public static Activity? StartReplay(DeadLetter letter, RecordPosition original, Message<byte[]?, byte[]?> message)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // Not sampled: no span, and the record keeps the trace context its dead letter kept.
        Span<byte> traceId = stackalloc byte[TraceSampling.TraceIdBytes];
        if (!TraceSampling.SampleRoot(traceId))
        {
            return null;
        }

        var first = TraceHeaders.Extract(message.Headers);
        ActivityLink[]? links = first == default ? null : [new ActivityLink(first, new ActivityTagsCollection { ["orders.link"] = "original" })];
        var span = TraceSampling.StartRoot(Source, $"send {original.Topic}", ActivityKind.Producer, traceId, links);
        if (span is { IsAllDataRequested: true })
        {
            MessagingAttributes.Start(span, "send", "send", original.Topic);
            span.SetTag("orders.replay.from", letter.Position.ToString());
            span.SetTag("orders.replay.origin", original.ToString());
        }

        if (span is not null)
        {
            TraceHeaders.Inject(span, message.Headers ??= []);
        }

        return span;
    }

    /// <summary>Ends a replay's send span with what the broker said.</summary>
    public static void Delivered(Activity? span, RecordPosition? at, string? error)
    {
        if (span is null)
        {
            return;
        }

        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error);
        }
        else if (at is { } position)
        {
            span.SetTag(MessagingAttributes.PartitionId, position.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture));
            span.SetTag(MessagingAttributes.Offset, position.Offset);
        }

        span.Stop();
    }
}
