using System.Diagnostics;
using Orders.Contracts;
using Orders.Processor.Observability;

namespace Orders.Processor.Records;

/// <summary>
/// The one place the handler is called, for a record handled at once and for one the
/// <see cref="Dispatcher"/> starts later alike: in the record's trace (so the handler's own spans,
/// an HTTP call's, are children of it), and with the clock of the processing-time histogram started.
/// </summary>
public sealed class HandlerInvoker(OrderPipeline pipeline, ProcessorMetrics? metrics = null)
{
    /// <summary>Whether an attempt's clock is read (latencies are measured): then a record's arrival time must be its own.</summary>
    public bool Timed => metrics?.Measuring == true;

    /// <summary>The clock of an attempt, for the processing-time histogram; null while latencies are not measured.</summary>
    public long? Clock() => metrics?.StartProcessing();

    /// <inheritdoc cref="Clock()"/>
    /// <param name="now">The loop's timestamp of this turn, read as the record arrived.</param>
    public long? Clock(long now) => metrics?.StartProcessing(now);

    /// <summary>Starts an attempt of a record the dispatcher holds.</summary>
    public ValueTask Start(WorkItem item)
    {
        item.StartedAt = Clock();
        return Start(item.Order, item.Cancellation, item.Span);
    }

    public ValueTask Start(Order order, CancellationToken cancellation, Activity? span)
    {
        if (span is null)
        {
            return pipeline.HandleAsync(order, cancellation);
        }

        var previous = Activity.Current;
        Activity.Current = span;
        try
        {
            return pipeline.HandleAsync(order, cancellation);
        }
        finally
        {
            Activity.Current = previous;
        }
    }
}
