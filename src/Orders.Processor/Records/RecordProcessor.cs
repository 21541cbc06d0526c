using System.Diagnostics;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.Hosting;
using Orders.Processor.Aggregates;
using Orders.Processor.Failures;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>Called on the loop's thread after each record was processed and counted (the bench measures latency with it).</summary>
public interface IRecordObserver
{
    void Processed(ConsumeResult<byte[]?, byte[]?> record);
}

/// <summary>
/// What happens to one record: decode and validate (<see cref="OrderPipeline"/>), then the handler
/// (<see cref="HandlerInvoker"/>), at once and inline when nothing is ahead of it and the handler
/// completes at once, else through the <see cref="Dispatcher"/>, which gives its completions back;
/// then the aggregate. Every record, inline or dispatched, ends through <see cref="End"/> with one
/// <see cref="RecordOutcome"/>: the <see cref="FailurePolicy"/> gives it for every failure, invalid
/// orders included. A partition with too much outstanding is held (<see cref="FlowControl"/>).
/// Disposed when the loop has closed: what its failures' log still counts is written then.
/// </summary>
public sealed class RecordProcessor : IDisposable
{
    private readonly OrderPipeline _pipeline;
    private readonly HandlerInvoker _handler;
    private readonly FailurePolicy _policy;
    private readonly FetchControl _fetch;
    private readonly ProcessorCounters _counters;
    private readonly string _group;
    private readonly FlowControl _flow;
    private readonly RecordFailures _failures;
    private readonly TimeProvider _time;
    private readonly ProcessorMetrics? _metrics;
    private readonly IRecordObserver? _observer;
    private readonly List<Completion> _ended = [];

    // A read whose lookup outlasted RegistryPatience, until it ends (the loop's thread only).
    private Task? _overdueLookup;

    internal RecordProcessor(
        OrderPipeline pipeline,
        HandlerInvoker handler,
        Dispatcher dispatcher,
        FailurePolicy policy,
        FetchControl fetch,
        RecordFailures failures,
        FlowControl flow,
        ProcessorStatus status,
        string group,
        TimeProvider time,
        ProcessorMetrics? metrics = null,
        IRecordObserver? observer = null)
    {
        (_pipeline, _handler, Dispatcher, _policy, _fetch, _failures, _flow) = (pipeline, handler, dispatcher, policy, fetch, failures, flow);
        (_counters, _group, _time, _metrics, _observer) = (status.Counters, group, time, metrics, observer);
    }

    public Dispatcher Dispatcher { get; }

    public void Dispose() => _failures.Dispose();

    /// <summary>Whether each record's processing time is measured from the arrival time it is given (then that time must be read for it).</summary>
    public bool TimesArrivals => _handler.Timed;

    /// <summary>The record in hand is taken on even if shutdown was requested meanwhile.</summary>
    /// <param name="arrivedAt">The loop's timestamp of the turn that brought the record: its processing time starts there.</param>
    /// <returns>True when the record was taken in hand (done, or on its way); false when it waits to be fetched again.</returns>
    /// <remarks>
    /// Synchronous, without an async state machine, when the record decodes at once (its writer schema
    /// is known: nearly always); only a record that waits for the registry goes the asynchronous way.
    /// </remarks>
    public ValueTask<bool> ProcessAsync(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, long arrivedAt, CancellationToken cancellationToken)
    {
        var span = ProcessorTracing.StartProcess(record, _group, out var previous);
        try
        {
            var startedAt = _handler.Clock(arrivedAt);
            var reading = _pipeline.ReadAsync(record);
            if (reading.IsCompletedSuccessfully)
            {
                return new ValueTask<bool>(Read(reading.Result, new InHand(record, state, span, startedAt)));
            }

            // Its earlier attempts count only if this one fails too.
            var (failures, registryWaits) = _fetch.HasRetries ? _fetch.History(record.TopicPartitionOffset) : (0, 0);
            return ReadLaterAsync(reading, new InHand(record, state, span, startedAt, failures, registryWaits));
        }
        finally
        {
            // Also on the asynchronous way: the span stays current inside ReadLaterAsync (its context
            // was captured on entry), not in the loop's after it returns.
            ProcessorTracing.Restore(span, previous);
        }
    }

    /// <summary>
    /// The longest the loop waits for the registry to resolve a record's writer schema. Past it the
    /// record waits as when the registry is unreachable (its partition is read again after the backoff)
    /// while the lookup goes on: a registry that accepts connections but does not answer would otherwise
    /// hold the loop, and with it every partition's records, checkpoints and rebalances, for the
    /// registry client's timeout and retries (about 15 s measured) per record.
    /// </summary>
    internal static readonly TimeSpan RegistryPatience = TimeSpan.FromSeconds(1);

    private async ValueTask<bool> ReadLaterAsync(ValueTask<(Order Order, string? Invalid)> reading, InHand hand)
    {
        (Order Order, string? Invalid) read;
        try
        {
            read = await WithinPatienceAsync(reading);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return End(hand, _policy.Decide(error, hand.Failures, hand.RegistryWaits));
        }

        return Read(read, hand with { Failures = 0, RegistryWaits = 0 });
    }

    /// <exception cref="RegistryUnavailableException">
    /// The read has not ended within <see cref="RegistryPatience"/>; or at once, while a lookup that outlasted it
    /// has not ended: the registry is not answering, and the loop waits for it once, not once per record.
    /// </exception>
    private async Task<(Order Order, string? Invalid)> WithinPatienceAsync(ValueTask<(Order Order, string? Invalid)> reading)
    {
        var task = reading.AsTask();
        if (!task.IsCompleted && _overdueLookup is { IsCompleted: false })
        {
            AbandonedTask.Observe(task);
            throw new RegistryUnavailableException(
                "the Schema Registry has not answered an earlier lookup yet: the record is read again after the backoff, its lookup goes on meanwhile",
                new TimeoutException($"a lookup has been waiting for more than {RegistryPatience.TotalSeconds:0} s"));
        }

        try
        {
            return await task.WaitAsync(RegistryPatience, _time);
        }
        catch (TimeoutException e) when (!task.IsCompleted)
        {
            AbandonedTask.Observe(task);
            _overdueLookup = task;
            throw new RegistryUnavailableException(
                $"the Schema Registry has not answered within {RegistryPatience.TotalSeconds:0} s: the record is read again after the backoff, the lookup goes on meanwhile", e);
        }
    }

    /// <summary>A record read: an invalid order ends at once; a valid one goes to the handler, inline or through the dispatcher.</summary>
    private bool Read((Order Order, string? Invalid) read, InHand hand)
    {
        var (record, state, span) = (hand.Record, hand.State, hand.Span);
        if (_fetch.HasRetries)
        {
            _fetch.Read(record.TopicPartition);
        }

        if (read.Invalid is { } invalid)
        {
            return End(hand, _policy.Decide(new InvalidOrderException(invalid), 0, 0));
        }

        var order = read.Order;
        var eventTime = EventTimeWindows.EventTimeMs(order, record.Message.Timestamp.UnixTimestampMs);
        if (!Dispatcher.CanStartNow(state, record.Message.Key))
        {
            Submit(new WorkItem(record, state, order, eventTime, state.Cancellation) { StartedAt = hand.StartedAt, Span = span }, running: null);
            return true;
        }

        var call = _handler.Start(order, state.Cancellation, span);
        if (call.IsCompletedSuccessfully)
        {
            // Nothing ahead of it, and the handler done at once: no bookkeeping at all.
            return End(hand with { Order = order, EventTimeMs = eventTime }, RecordOutcome.Processed);
        }

        Submit(new WorkItem(record, state, order, eventTime, state.Cancellation) { StartedAt = hand.StartedAt, Span = span }, call);
        return true;
    }

    /// <summary>Ends the records whose handler calls ended, and starts the retries that are due.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends (at most <paramref name="wait"/>).</returns>
    public TimeSpan Pump(TimeSpan wait)
    {
        if (Dispatcher.Pump(_ended) is { } retryIn && retryIn < wait)
        {
            wait = retryIn;
        }

        EndCompleted();

        // A handler that completes wakes nothing: poll briefly while some are under way.
        return Dispatcher.InFlight > 0 && wait > TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    /// <summary>
    /// Lets the handler calls of partitions about to be checkpointed end, until <paramref name="deadline"/>,
    /// starting nothing more of theirs (<see cref="Records.Dispatcher.Quiesce"/>): what completes is
    /// counted; what does not, or did not start, is left out of the checkpoint, uncounted, and handled
    /// again by the partitions' next owner.
    /// </summary>
    public void Settle(IReadOnlyCollection<PartitionState> states, long deadline)
    {
        Dispatcher.Quiesce(states);
        while (Dispatcher.InFlightOf(states) > 0 && !_time.HasCome(deadline))
        {
            Dispatcher.WaitForOne(TimeSpan.FromMilliseconds(10));
            Pump(TimeSpan.Zero);
        }
    }

    /// <summary>The partition left this processor: what the dispatcher held for it is dropped (its next owner processes it).</summary>
    public void Forget(PartitionState state)
    {
        Dispatcher.Forget(state, _ended);
        EndCompleted();
    }

    /// <summary>
    /// The one place a record in hand ends, whatever ended it (the handler inline or dispatched, a
    /// decoding failure, an invalid order): counted, dead-lettered, tried again, or waiting.
    /// </summary>
    /// <returns>True when the record was taken in hand; false when its partition reads it again later.</returns>
    private bool End(in InHand hand, RecordOutcome outcome)
    {
        var (record, state, span) = (hand.Record, hand.State, hand.Span);
        var endedAt = outcome.Stopped ? null : _metrics?.Processed(hand.StartedAt, outcome.End == RecordEnd.Processed ? null : FailureClassifier.Classify(outcome.Error!));

        switch (outcome.End)
        {
            case RecordEnd.Processed:
                _pipeline.Count(hand.Order!, hand.EventTimeMs, state.Aggregate, endedAt);
                _counters.ProcessedOne();
                _observer?.Processed(record);
                ProcessorTracing.End(span, ProcessorTracing.Processed);
                Done(hand);
                return true;
            case RecordEnd.DeadLettered:
                _failures.DeadLetter(state, record, span, outcome.Reason!, outcome.Error!, hand.Failures + 1);
                Done(hand);
                return true;
            case RecordEnd.Retry when hand.Item is { } item:
                item.Failures++;
                _failures.Retrying(record, span, outcome, item.Failures);
                Dispatcher.Retry(item, outcome.Delay);
                return true;
            case RecordEnd.Retry:
                // A record that could not be read, not for its bytes nor the registry (a decoder error of ours): read again as the record it is.
                _failures.Retrying(record, span, outcome, hand.Failures + 1);
                ProcessorTracing.End(span, "retry");
                _fetch.WaitToRead(record.TopicPartitionOffset, hand.Failures + 1, 0, outcome.Delay, FetchHold.Retry);
                return false;
            case RecordEnd.Wait when hand.Item is { } item:
                if (!outcome.Stopped)
                {
                    item.RegistryWaits++;
                    _failures.WaitingForRegistry(record, span, outcome, item.Failures + item.RegistryWaits);
                }

                Dispatcher.Retry(item, outcome.Delay);
                return true;
            case RecordEnd.Wait:
                // Every record needs the registry: the partition waits as a whole and reads this one again, in a span of its own.
                var waits = hand.RegistryWaits;
                if (outcome.Stopped)
                {
                    ProcessorTracing.End(span, RecordOutcome.StoppedReason, outcome.Error);
                }
                else
                {
                    _failures.WaitingForRegistry(record, span, outcome, hand.Failures + ++waits);
                    ProcessorTracing.End(span, "registry-unavailable");
                }

                _fetch.WaitToRead(record.TopicPartitionOffset, hand.Failures, waits, outcome.Delay, FetchHold.Registry);
                return false;
            default:
                throw new UnreachableException($"a record ended as {outcome.End}");
        }
    }

    /// <summary>The record is done: inline it advances its partition; dispatched, it completes there and lets its key go on.</summary>
    private void Done(in InHand hand)
    {
        if (hand.Item is { } item)
        {
            hand.State.Complete(hand.Record.Offset.Value, started: true);
            Dispatcher.Done(item);
            _flow.Apply(hand.State);
            return;
        }

        hand.State.Advance(hand.Record.Offset.Value);
        if (hand.State.Outstanding > 0)
        {
            // Done above a record still outstanding: it counts towards the partition's limit out of order.
            _flow.Apply(hand.State);
        }

        if (_fetch.HasRetries)
        {
            _fetch.Read(hand.Record.TopicPartition);
        }
    }

    private void EndCompleted()
    {
        foreach (var (item, error, abandoned) in _ended)
        {
            if (abandoned)
            {
                ProcessorTracing.End(item.Span, "revoked");
                continue;
            }

            // Its log lines (a retry, a dead letter) carry the record's trace, as when it was read.
            using var current = ProcessorTracing.Current(item.Span);
            End(InHand.Of(item), error is null ? RecordOutcome.Processed : _policy.Decide(error, item.Failures, item.RegistryWaits));
        }

        _ended.Clear();
    }

    private void Submit(WorkItem item, ValueTask? running)
    {
        item.State.Taken(item.Record.Offset.Value);
        Dispatcher.Submit(item, running);
        _flow.Apply(item.State);
    }

    /// <summary>A record in hand: inline (no <see cref="Item"/>, nothing allocated) or the dispatcher's.</summary>
    private readonly record struct InHand(
        ConsumeResult<byte[]?, byte[]?> Record, PartitionState State, Activity? Span, long? StartedAt, int Failures = 0, int RegistryWaits = 0)
    {
        public WorkItem? Item { get; init; }

        public Order? Order { get; init; }

        public long EventTimeMs { get; init; }

        public static InHand Of(WorkItem item) => new(item.Record, item.State, item.Span, item.StartedAt, item.Failures, item.RegistryWaits)
        {
            Item = item,
            Order = item.Order,
            EventTimeMs = item.EventTimeMs,
        };
    }
}
