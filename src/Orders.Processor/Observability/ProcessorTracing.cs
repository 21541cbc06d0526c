using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Processor.Observability;

/// <summary>
/// The processor's spans (OpenTelemetry messaging conventions): one <c>process</c> span per record,
/// a child of the writer's send span when the record carries a <c>traceparent</c>, lasting from its
/// reading until its outcome (processed, or dead-lettered as invalid, poison, retries-exhausted),
/// its retries as events; a dead letter's <c>send</c> span as its child; checkpoint writes and
/// restores as spans of their own. With no listener (tracing off) nothing is made: one check per record.
/// The loop's thread never keeps a record's span as its current one: each is current only while
/// that record's code runs (its handler, and the log lines it writes, see the span).
/// </summary>
public static class ProcessorTracing
{
    public const string SourceName = "Orders.Processor";

    /// <summary>The outcome of a record the processor counted.</summary>
    public const string Processed = "processed";

    internal static readonly ActivitySource Source = new(SourceName, typeof(ProcessorTracing).Assembly.GetName().Version?.ToString());

    public static bool Enabled => Source.HasListeners();

    /// <summary>Starts the process span of a record and makes it current (end with <see cref="Restore"/>); null when tracing is off.</summary>
    public static Activity? StartProcess(ConsumeResult<byte[]?, byte[]?> record, string group, out Activity? previous)
    {
        previous = null;
        if (!Source.HasListeners())
        {
            return null;
        }

        // A record whose trace is not sampled (its writer's flag, or this processor's own decision) gets no span.
        Span<byte> traceId = stackalloc byte[TraceSampling.TraceIdBytes];
        var continues = TraceHeaders.TryReadParent(record.Message.Headers, traceId, out var flags);
        if (continues ? !TraceSampling.SampleChild(flags, traceId) : !TraceSampling.SampleRoot(traceId))
        {
            return null;
        }

        previous = Activity.Current;
        var name = $"process {record.Topic}";
        var span = continues
            ? Source.StartActivity(name, ActivityKind.Consumer, TraceHeaders.Extract(record.Message.Headers))
            : TraceSampling.StartRoot(Source, name, ActivityKind.Consumer, traceId);
        if (span is null)
        {
            return null;
        }

        Activity.Current = span;
        MessagingAttributes.Start(span, "process", "process", record.Topic);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag(MessagingAttributes.ConsumerGroup, group);
            span.SetTag(MessagingAttributes.PartitionId, record.Partition.Value.ToString(CultureInfo.InvariantCulture));
            span.SetTag(MessagingAttributes.Offset, record.Offset.Value);
            if (MessagingAttributes.KeyText(record.Message.Key) is { } key)
            {
                span.SetTag(MessagingAttributes.MessageKey, key);
            }
        }

        return span;
    }

    /// <summary>The loop's thread gets back the current span it had before a record's.</summary>
    public static void Restore(Activity? span, Activity? previous)
    {
        if (span is not null)
        {
            Activity.Current = previous;
        }
    }

    /// <summary>Makes a record's span the thread's current one until disposed: its log lines then carry its trace id.</summary>
    public static CurrentSpan Current(Activity? span) => new(span);

    /// <summary>Ends a record's span with its outcome; an error outcome (a dead letter) with its error type and message.</summary>
    public static void End(Activity? span, string outcome, Exception? error = null)
    {
        if (span is null)
        {
            return;
        }

        span.SetTag(MessagingAttributes.Outcome, outcome);
        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error.Message);
            span.SetTag(MessagingAttributes.ErrorType, outcome);
        }

        Stop(span);
    }

    /// <summary>A failed attempt that will be tried again, as an event of the record's span.</summary>
    public static void Retrying(Activity? span, string kind, int attempt, TimeSpan delay, Exception error)
    {
        if (span is not { IsAllDataRequested: true })
        {
            return;
        }

        span.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection
        {
            ["orders.retry.kind"] = kind,
            ["orders.retry.attempt"] = attempt,
            ["orders.retry.delay_ms"] = (long)delay.TotalMilliseconds,
            ["exception.type"] = error.GetType().FullName,
            ["exception.message"] = error.Message,
        }));
    }

    /// <summary>Starts a dead letter's send span, a child of its record's span; not current anywhere.</summary>
    public static Activity? StartDeadLetter(Activity? record, string topic, string reason)
    {
        if (record is null || !Source.HasListeners())
        {
            return null;
        }

        var span = StartDetached($"send {topic}", ActivityKind.Producer, record.Context);
        if (span is not null)
        {
            MessagingAttributes.Start(span, "send", "send", topic);
            span.SetTag("orders.dead_letter.reason", reason);
        }

        return span;
    }

    /// <summary>Ends a send span with what the broker said.</summary>
    public static void Sent(Activity? span, Error error, int partition, long offset)
    {
        if (span is null)
        {
            return;
        }

        if (error.IsError)
        {
            span.SetStatus(ActivityStatusCode.Error, error.Reason);
            span.SetTag(MessagingAttributes.ErrorType, error.Code.ToString());
        }
        else
        {
            span.SetTag(MessagingAttributes.PartitionId, partition.ToString(CultureInfo.InvariantCulture));
            span.SetTag(MessagingAttributes.Offset, offset);
        }

        Stop(span);
    }

    /// <summary>A span of the processor's own housekeeping (a checkpoint write, a restore), a root of its own; not current anywhere.</summary>
    public static Activity? StartOwn(string name, ActivityKind kind, string topic, string operation)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        Span<byte> traceId = stackalloc byte[TraceSampling.TraceIdBytes];
        if (!TraceSampling.SampleRoot(traceId) || TraceSampling.StartRoot(Source, name, kind, traceId) is not { } span)
        {
            return null;
        }

        MessagingAttributes.Start(span, operation, operation == "receive" ? "receive" : "send", topic);
        return span;
    }

    /// <summary>Ends a span, failed when <paramref name="error"/> is given.</summary>
    public static void Finish(Activity? span, string? error = null)
    {
        if (span is null)
        {
            return;
        }

        if (error is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, error);
        }

        Stop(span);
    }

    private static Activity? StartDetached(string name, ActivityKind kind, ActivityContext parent)
    {
        var previous = Activity.Current;
        var span = Source.StartActivity(name, kind, parent);
        Activity.Current = previous;
        return span;
    }

    /// <summary>Stops a span without disturbing the current span of the thread that stops it.</summary>
    private static void Stop(Activity span)
    {
        var current = Activity.Current;
        span.Stop();
        Activity.Current = current == span ? span.Parent : current;
    }

    /// <summary>A record's span as the current one for a while (nothing when tracing is off).</summary>
    public readonly struct CurrentSpan : IDisposable
    {
        private readonly Activity? _span;
        private readonly Activity? _previous;

        internal CurrentSpan(Activity? span)
        {
            _span = span;
            if (span is not null)
            {
                _previous = Activity.Current;
                Activity.Current = span;
            }
        }

        public void Dispose()
        {
            if (_span is not null)
            {
                Activity.Current = _previous;
            }
        }
    }
}
