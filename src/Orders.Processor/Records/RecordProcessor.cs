using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>Called on the loop's thread after each record was processed and counted (the bench measures latency with it).</summary>
public interface IRecordObserver
{
    void Processed(ConsumeResult<byte[]?, byte[]?> record);
}

/// <summary>
/// What happens to one record: decode and validate (<see cref="OrderPipeline"/>), then the handler,
/// concurrently through the <see cref="Dispatcher"/> (at once and inline when nothing is ahead of it
/// and the handler completes at once), then the aggregate. When a step fails, the
/// <see cref="FailurePolicy"/> decides and <see cref="RecordFailures"/> carries it out; a partition
/// with too much outstanding pauses (<see cref="FlowControl"/>).
/// </summary>
public sealed class RecordProcessor : IWorkOutcomes
{
    private readonly OrderPipeline _pipeline;
    private readonly FetchControl _fetch;
    private readonly ProcessorCounters _counters;
    private readonly string _group;
    private readonly FlowControl _flow;
    private readonly RecordFailures _failures;
    private readonly ProcessorMetrics? _metrics;
    private readonly IRecordObserver? _observer;

    public RecordProcessor(
        OrderPipeline pipeline,
        FailurePolicy policy,
        FetchControl fetch,
        DeadLetterWriter deadLetters,
        ProcessorStatus status,
        string group,
        (int MaxInFlight, Ordering Ordering, FlowLimits Limits) concurrency,
        FatalSignal fatal,
        TimeProvider time,
        ILogger logger,
        ProcessorMetrics? metrics = null,
        IRecordObserver? observer = null)
    {
        (_pipeline, _fetch, _group, _metrics, _observer) = (pipeline, fetch, group, metrics, observer);
        _counters = status.Counters;
        _flow = new FlowControl(concurrency.Limits, fetch);
        _failures = new RecordFailures(policy, fetch, deadLetters, status, group, _flow, fatal, time, logger, metrics);
        Dispatcher = new Dispatcher(this, concurrency.MaxInFlight, concurrency.Ordering, time);
    }

    public Dispatcher Dispatcher { get; }

    /// <summary>The record in hand is taken on even if shutdown was requested meanwhile.</summary>
    /// <returns>True when the record was taken in hand (done, or on its way); false when it waits to be fetched again.</returns>
    public async ValueTask<bool> ProcessAsync(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, CancellationToken cancellationToken)
    {
        var span = ProcessorTracing.StartProcess(record, _group, out var previous);
        try
        {
            return await ProcessAsync(record, state, span);
        }
        finally
        {
            ProcessorTracing.Restore(span, previous);
        }
    }

    private async ValueTask<bool> ProcessAsync(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Activity? span)
    {
        var (failures, registryWaits) = _fetch.HasRetries ? _fetch.History(record.TopicPartitionOffset) : (0, 0);
        var startedAt = _metrics?.StartProcessing();
        Order order;
        string? invalid;
        try
        {
            (order, invalid) = await _pipeline.ReadAsync(record);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return _failures.Unreadable(record, state, span, error, failures, registryWaits, startedAt);
        }

        if (_fetch.HasRetries)
        {
            _fetch.Read(record.TopicPartition);
        }

        if (invalid is not null)
        {
            _metrics?.Processed(startedAt, FailureKind.Invalid);
            _failures.DeadLetter(state, record, span, DeadLetterHeaders.ReasonInvalid, new InvalidOrderException(invalid), attempts: 1);
            state.Advance(record.Offset.Value);
            return true;
        }

        var eventTime = EventTimeWindows.EventTimeMs(order, record.Message.Timestamp.UnixTimestampMs);
        if (!Dispatcher.CanStartNow(state, record.Message.Key))
        {
            Submit(new WorkItem(record, state, order, eventTime, state.Cancellation) { StartedAt = startedAt, Span = span }, running: null);
            return true;
        }

        var call = _pipeline.HandleAsync(order, state.Cancellation);
        if (call.IsCompletedSuccessfully)
        {
            // Nothing ahead of it, and the handler done at once: no bookkeeping at all.
            Count(record, state, order, eventTime, startedAt);
            ProcessorTracing.End(span, ProcessorTracing.Processed);
            state.Advance(record.Offset.Value);
            return true;
        }

        Submit(new WorkItem(record, state, order, eventTime, state.Cancellation) { StartedAt = startedAt, Span = span }, call);
        return true;
    }

    /// <summary>Applies what the handlers finished, and starts the retries that are due.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends (at most <paramref name="wait"/>).</returns>
    public TimeSpan Pump(TimeSpan wait)
    {
        if (Dispatcher.Pump() is { } retryIn && retryIn < wait)
        {
            wait = retryIn;
        }

        // A handler that completes wakes nothing: poll briefly while some are under way.
        return Dispatcher.InFlight > 0 && wait > TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    ValueTask IWorkOutcomes.Start(WorkItem item)
    {
        item.StartedAt = _metrics?.StartProcessing();
        if (item.Span is not { } span)
        {
            return _pipeline.HandleAsync(item.Order, item.Cancellation);
        }

        // The handler runs in the record's trace (its own spans, an HTTP call's, are children of it).
        var previous = Activity.Current;
        Activity.Current = span;
        try
        {
            return _pipeline.HandleAsync(item.Order, item.Cancellation);
        }
        finally
        {
            Activity.Current = previous;
        }
    }

    void IWorkOutcomes.Abandoned(WorkItem item) => ProcessorTracing.End(item.Span, "revoked");

    void IWorkOutcomes.Succeeded(WorkItem item)
    {
        Count(item.Record, item.State, item.Order, item.EventTimeMs, item.StartedAt);
        ProcessorTracing.End(item.Span, ProcessorTracing.Processed);
        item.State.Complete(item.Record.Offset.Value, started: true);
        _flow.Apply(item.State);
    }

    TimeSpan? IWorkOutcomes.Failed(WorkItem item, Exception error) => _failures.Failed(item, error);

    private void Submit(WorkItem item, ValueTask? running)
    {
        item.State.Taken(item.Record.Offset.Value);
        Dispatcher.Submit(item, running);
        _flow.Apply(item.State);
    }

    private void Count(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Order order, long eventTime, long? startedAt)
    {
        _pipeline.Count(order, eventTime, state.Aggregate);
        _metrics?.Processed(startedAt);
        _counters.ProcessedOne();
        _observer?.Processed(record);
    }
}
