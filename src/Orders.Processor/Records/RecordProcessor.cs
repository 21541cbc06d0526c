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

/// <summary>How much a partition may have outstanding before it pauses (bounded memory, no starvation).</summary>
/// <param name="MaxOutstanding">Records taken in hand and not done (in flight, waiting for their key or a retry).</param>
/// <param name="MaxOutOfOrder">Records completed above the partition's lowest incomplete one.</param>
public readonly record struct FlowLimits(int MaxOutstanding, int MaxOutOfOrder);

/// <summary>
/// What happens to one record: decode and validate (<see cref="OrderPipeline"/>), then the handler,
/// concurrently through the <see cref="Dispatcher"/> (at once and inline when nothing is ahead of it
/// and the handler completes at once), then the aggregate. When a step fails, the
/// <see cref="FailurePolicy"/> decides: a registry that cannot be reached rewinds the partition to
/// the record and waits (every record needs it); a transient handler failure waits out its backoff
/// alone, the rest of the partition going on; poison, invalid orders and exhausted retries take the
/// one dead-letter path.
/// </summary>
public sealed class RecordProcessor : IWorkOutcomes
{
    private readonly OrderPipeline _pipeline;
    private readonly FailurePolicy _policy;
    private readonly PausedPartitions _paused;
    private readonly PartitionTable _table;
    private readonly DeadLetterWriter _deadLetters;
    private readonly IConsumerPort _consumer;
    private readonly ProcessorStatus _status;
    private readonly ProcessorCounters _counters;
    private readonly string _group;
    private readonly FlowLimits _limits;
    private readonly FatalSignal _fatal;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ProcessorMetrics? _metrics;
    private readonly IRecordObserver? _observer;

    public RecordProcessor(
        OrderPipeline pipeline,
        FailurePolicy policy,
        PausedPartitions paused,
        PartitionTable table,
        DeadLetterWriter deadLetters,
        IConsumerPort consumer,
        ProcessorStatus status,
        string group,
        (int MaxInFlight, Ordering Ordering, FlowLimits Limits) concurrency,
        FatalSignal fatal,
        TimeProvider time,
        ILogger logger,
        ProcessorMetrics? metrics = null,
        IRecordObserver? observer = null)
    {
        (_pipeline, _policy, _paused, _table, _deadLetters, _consumer, _status, _group) = (pipeline, policy, paused, table, deadLetters, consumer, status, group);
        (_limits, _fatal, _time, _logger, _metrics, _observer) = (concurrency.Limits, fatal, time, logger, metrics, observer);
        _counters = status.Counters;
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
        var (failures, registryWaits) = _paused.Count > 0 ? _paused.History(record.TopicPartitionOffset) : (0, 0);
        var startedAt = _metrics?.StartProcessing();
        Order order;
        string? invalid;
        try
        {
            (order, invalid) = await _pipeline.ReadAsync(record);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return Unreadable(record, state, span, error, failures, registryWaits, startedAt);
        }

        if (_paused.Count > 0)
        {
            _paused.Clear(record.TopicPartition);
        }

        if (invalid is not null)
        {
            _metrics?.Processed(startedAt, FailureKind.Invalid);
            DeadLetter(state, record, span, DeadLetterHeaders.ReasonInvalid, new InvalidOrderException(invalid), attempts: 1);
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

    /// <summary>Resumes the partitions whose wait for the registry has passed, and applies what the handlers finished.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends.</returns>
    public TimeSpan Pump()
    {
        var due = _paused.TakeDue(out var wait);
        foreach (var partition in due)
        {
            // Not one held for its checkpoint or by flow control: that hold ends by itself.
            if (!_table.TryGet(partition.Partition.Value, out var state))
            {
                _consumer.Resume([partition]);
            }
            else if (!state.Checkpoint.Held && !state.Backpressured)
            {
                state.ResumeOn(_consumer);
            }
        }

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
        FlowControl(item.State);
    }

    TimeSpan? IWorkOutcomes.Failed(WorkItem item, Exception error)
    {
        var record = item.Record;
        if (SchemaRegistryErrors.IsCredentialsRejected(error))
        {
            _fatal.Set(new RegistryCredentialsException(error));
            return _policy.MaxDelay;
        }

        var kind = FailureClassifier.Classify(error);
        _metrics?.Processed(item.StartedAt, kind);
        var decided = _policy.Decide(kind, item.Failures, item.RegistryWaits);
        using var current = ProcessorTracing.Current(item.Span);
        switch (decided.Action)
        {
            case FailureAction.Retry:
                _counters.RetriedOne();
                item.Failures++;
                ProcessorTracing.Retrying(item.Span, kind.ToString(), item.Failures, decided.Delay, error);
                Log.Retrying(_logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)decided.Delay.TotalMilliseconds, item.Failures, error.Message);
                return decided.Delay;
            case FailureAction.WaitForRegistry:
                _counters.WaitedForRegistry();
                item.RegistryWaits++;
                ProcessorTracing.Retrying(item.Span, "registry-unavailable", item.Failures + item.RegistryWaits, decided.Delay, error);
                Log.RegistryUnavailable(_logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                return decided.Delay;
            default:
                DeadLetter(item.State, record, item.Span, decided.Reason!, error, item.Failures + 1);
                item.State.Complete(record.Offset.Value, started: true);
                FlowControl(item.State);
                return null;
        }
    }

    /// <summary>A record that could not be read: poison is dead-lettered at once; a registry away rewinds the partition to it.</summary>
    private bool Unreadable(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Activity? span, Exception error, int failures, int registryWaits, long? startedAt)
    {
        if (SchemaRegistryErrors.IsCredentialsRejected(error))
        {
            // Retrying cannot fix credentials: stop, with the record still unprocessed.
            _fatal.Set(new RegistryCredentialsException(error));
            ProcessorTracing.End(span, "stopped", error);
            Rewind(record, failures, registryWaits, _policy.MaxDelay);
            return false;
        }

        var kind = FailureClassifier.Classify(error);
        _metrics?.Processed(startedAt, kind);
        var decided = _policy.Decide(kind, failures, registryWaits);
        switch (decided.Action)
        {
            case FailureAction.WaitForRegistry:
                _counters.WaitedForRegistry();
                Log.RegistryUnavailable(_logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                // Read again once the wait is over, in a span of its own.
                ProcessorTracing.Retrying(span, "registry-unavailable", failures + registryWaits + 1, decided.Delay, error);
                ProcessorTracing.End(span, "registry-unavailable");
                Rewind(record, failures, registryWaits + 1, decided.Delay);
                return false;
            case FailureAction.Retry:
                // Not the bytes' fault, nor the registry's (a decoder error of ours): tried again as the record it is.
                _counters.RetriedOne();
                Log.Retrying(_logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)decided.Delay.TotalMilliseconds, failures + 1, error.Message);
                ProcessorTracing.Retrying(span, kind.ToString(), failures + 1, decided.Delay, error);
                ProcessorTracing.End(span, "retry");
                Rewind(record, failures + 1, 0, decided.Delay);
                return false;
        }

        DeadLetter(state, record, span, decided.Reason!, error, failures + 1);
        if (_paused.Count > 0)
        {
            _paused.Clear(record.TopicPartition);
        }

        state.Advance(record.Offset.Value);
        return true;
    }

    private void Submit(WorkItem item, ValueTask? running)
    {
        item.State.Taken(item.Record.Offset.Value);
        Dispatcher.Submit(item, running);
        FlowControl(item.State);
    }

    private void Count(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Order order, long eventTime, long? startedAt)
    {
        _pipeline.Count(order, eventTime, state.Aggregate);
        _metrics?.Processed(startedAt);
        _counters.ProcessedOne();
        _observer?.Processed(record);
    }

    /// <summary>
    /// Pauses a partition with too much outstanding or completed out of order, and resumes it once
    /// it has half as much (unless it is paused for another reason too): memory stays bounded, and a
    /// key stuck in retries holds the rest back no further than these limits.
    /// </summary>
    private void FlowControl(PartitionState state)
    {
        var outOfOrder = state.Offsets.CompletedAboveCount;
        if (!state.Backpressured && (state.Outstanding >= _limits.MaxOutstanding || outOfOrder >= _limits.MaxOutOfOrder))
        {
            state.Backpressured = true;
            _consumer.Pause([state.Partition]);
        }
        else if (state.Backpressured && state.Outstanding <= _limits.MaxOutstanding / 2 && outOfOrder <= _limits.MaxOutOfOrder / 2)
        {
            state.Backpressured = false;
            if (!_paused.Contains(state.Partition) && !state.Checkpoint.Held && !state.Released)
            {
                state.ResumeOn(_consumer);
            }
        }
    }

    private void DeadLetter(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, Activity? span, string reason, Exception error, int attempts)
    {
        var now = _time.GetUtcNow();
        var message = DeadLetterMessages.Build(record, _group, reason, error, attempts, now);
        _deadLetters.Write(state, message, reason, record.Offset.Value, span);
        _status.RecentDeadLetters.Add(now, record.Topic, record.Partition.Value, record.Offset.Value, reason, error);
        state.Aggregate.AddDeadLetter(reason);
        Log.DeadLettered(_logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        ProcessorTracing.End(span, reason, error);
    }

    private void Rewind(ConsumeResult<byte[]?, byte[]?> record, int failures, int registryWaits, TimeSpan delay)
    {
        _paused.Pause(record.TopicPartitionOffset, failures, registryWaits, delay);
        _consumer.Pause([record.TopicPartition]);
        _consumer.Seek(record.TopicPartitionOffset);
    }
}
