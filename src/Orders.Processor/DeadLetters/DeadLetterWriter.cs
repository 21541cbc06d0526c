using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Processor.Failures;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.DeadLetters;

/// <summary>
/// Writes dead letters without holding up the partition: each goes out asynchronously to the
/// dead-letter partition its input partition's state was restored with (<see cref="PartitionState.DeadLetterPartition"/>:
/// where its restore read its letters back, so where the next restore reads them), and its partition's state counts it as pending
/// until acknowledged (no checkpoint may cover a record whose dead letter is not written).
/// A write that fails is retried with backoff for at most <c>timeout</c>; one too large for the
/// topic is cut down (<see cref="DeadLetterMessages.Truncated"/>); one that can never succeed
/// otherwise, or a fatal producer error, stops the processor with a clear error: restarting from
/// the checkpoints loses nothing, while waiting forever would block the partition.
/// </summary>
public sealed class DeadLetterWriter(
    IProducerPort producer,
    string topic,
    RetrySchedule retrySchedule,
    TimeSpan timeout,
    TimeProvider time,
    ProcessorCounters counters,
    FatalSignal fatal,
    ILogger logger)
{
    private readonly ConcurrentQueue<Outcome> _outcomes = new();
    private readonly List<Letter> _retries = [];
    private readonly Dictionary<int, long> _frontier = [];

    // The close's last wait is over (SettleAtClose): outcomes are counted, nothing is sent again.
    private bool _closed;

    // Letters handed to the producer whose outcome is not settled yet, by input partition: each send has one outcome.
    private readonly Dictionary<int, int> _inFlight = [];

    /// <summary>One past the highest offset acknowledged to this writer in a dead-letter partition (0 if none).</summary>
    public long AcknowledgedFrontier(int deadLetterPartition) => _frontier.GetValueOrDefault(deadLetterPartition);

    /// <summary>
    /// Letters of the input partition are on their way (handed to the producer, their outcome not yet settled by <see cref="Pump"/>).
    /// For a partition being assigned, these are its previous ownership's, sent before it was given up.
    /// </summary>
    public bool InFlightFor(int inputPartition) => _inFlight.GetValueOrDefault(inputPartition) > 0;

    /// <param name="record">The record's process span: the dead letter's send span is its child (null with tracing off).</param>
    public void Write(PartitionState state, Message<byte[]?, byte[]?> message, string reason, long sourceOffset, System.Diagnostics.Activity? record = null)
    {
        state.DeadLetterSent();
        var span = ProcessorTracing.StartDeadLetter(record, topic, reason);
        Send(new Letter(state, message, reason, sourceOffset, time.GetTimestamp(), Attempt: 1, Truncated: false) { Span = span });
    }

    /// <summary>Applies acknowledgements and failures, and sends retries that are due. Called by the consume loop.</summary>
    /// <returns>How long until the next retry is due, or null if none waits.</returns>
    public TimeSpan? Pump()
    {
        while (_outcomes.TryDequeue(out var outcome))
        {
            Settle(outcome);
        }

        if (_retries.Count == 0)
        {
            return null;
        }

        var now = time.GetTimestamp();
        TimeSpan? next = null;
        for (var i = _retries.Count - 1; i >= 0; i--)
        {
            var letter = _retries[i];
            if (letter.DueAt <= now)
            {
                _retries.RemoveAt(i);
                Send(letter);
            }
            else if (Monotonic.Span(time, letter.DueAt - now) is var wait && (next is null || wait < next))
            {
                next = wait;
            }
        }

        return next;
    }

    /// <summary>
    /// The close, after its last wait for what is on its way: takes in the outcomes that came, and sends nothing again,
    /// since nothing would wait for it. A letter that failed is left, as a released partition's is: the partition's
    /// next owner decides its record again.
    /// </summary>
    public void SettleAtClose()
    {
        _closed = true;
        while (_outcomes.TryDequeue(out var outcome))
        {
            Settle(outcome);
        }
    }

    /// <summary>The partition left this processor: its letters still to retry are dropped; its next owner decides those records again.</summary>
    public void Forget(PartitionState state)
    {
        foreach (var letter in _retries.Where(l => l.State == state))
        {
            ProcessorTracing.Finish(letter.Span, "the partition was revoked before its dead letter was written");
        }

        _retries.RemoveAll(l => l.State == state);
    }

    private void Send(Letter letter)
    {
        var target = new TopicPartition(topic, letter.State.DeadLetterPartition);
        _inFlight[letter.State.Partition.Partition.Value] = _inFlight.GetValueOrDefault(letter.State.Partition.Partition.Value) + 1;
        try
        {
            producer.Produce(target, letter.Message, report => _outcomes.Enqueue(new Outcome(letter, report.Error, report.Offset)));
        }
        catch (ProduceException<byte[]?, byte[]?> e)
        {
            // Refused before it left the process (too large for message.max.bytes, queue full, ...).
            _outcomes.Enqueue(new Outcome(letter, e.Error, Offset.Unset));
        }
        catch (KafkaException e)
        {
            _outcomes.Enqueue(new Outcome(letter, e.Error, Offset.Unset));
        }
    }

    private void Settle(Outcome outcome)
    {
        var letter = outcome.Letter;
        var source = letter.State.Partition;
        if (--_inFlight[source.Partition.Value] == 0)
        {
            _inFlight.Remove(source.Partition.Value);
        }

        if (!outcome.Error.IsError)
        {
            letter.State.DeadLetterSettled();
            var dlqPartition = letter.State.DeadLetterPartition;
            ProcessorTracing.Sent(letter.Span, outcome.Error, dlqPartition, outcome.Offset.Value);
            _frontier[dlqPartition] = Math.Max(_frontier.GetValueOrDefault(dlqPartition), outcome.Offset.Value + 1);
            counters.DeadLettered(letter.Reason);
            return;
        }

        counters.DeadLetterWriteFailed();
        var error = outcome.Error;
        if (letter.State.Released || _closed)
        {
            // No longer ours (or about to be): the partition's next owner decides the record again.
            ProcessorTracing.Sent(letter.Span, error, letter.State.DeadLetterPartition, Offset.Unset.Value);
            return;
        }

        if (error.IsFatal)
        {
            Fail(letter, $"fatal producer error {error.Code}: {error.Reason}");
        }
        else if (IsTooLarge(error.Code) && !letter.Truncated)
        {
            letter.Span?.AddEvent(new System.Diagnostics.ActivityEvent("truncated", tags: new() { ["exception.message"] = error.Reason }));
            Log.DeadLetterTruncating(logger, source.Topic, source.Partition.Value, letter.SourceOffset, letter.Message.Value?.Length ?? 0, error.Reason);
            Send(letter with { Message = DeadLetterMessages.Truncated(letter.Message, $"{error.Code}: {error.Reason}"), Truncated = true, Attempt = letter.Attempt + 1 });
        }
        else if (time.GetElapsedTime(letter.FirstTriedAt) >= timeout || (IsTooLarge(error.Code) && letter.Truncated))
        {
            Fail(letter, $"still failing after {letter.Attempt} attempt(s) in {time.GetElapsedTime(letter.FirstTriedAt).TotalSeconds:0} s: {error.Code}: {error.Reason}");
        }
        else if (error.Code == ErrorCode.Local_QueueFull)
        {
            // The producer's own queue is full: sent again soon, not counted as an attempt, but within the timeout as any
            // failure is (it was sent again at every pump, never timing out, while a broker away kept the queue full).
            _retries.Add(letter with { DueAt = time.After(QueueFullWait) });
        }
        else
        {
            var delay = retrySchedule.DelayAfter(letter.Attempt);
            letter.Span?.AddEvent(new System.Diagnostics.ActivityEvent("retry", tags: new() { ["orders.retry.delay_ms"] = (long)delay.TotalMilliseconds, ["exception.message"] = error.Reason }));
            Log.DeadLetterRetrying(logger, source.Topic, source.Partition.Value, letter.SourceOffset, (long)delay.TotalMilliseconds, error.Reason);
            _retries.Add(letter with { Attempt = letter.Attempt + 1, DueAt = time.After(delay) });
        }
    }

    private void Fail(Letter letter, string why)
    {
        var source = letter.State.Partition;
        ProcessorTracing.Finish(letter.Span, why);
        if (!fatal.Has<DeadLetterWriteException>())
        {
            fatal.Set(new DeadLetterWriteException(
                $"cannot write the dead letter of {source.Topic}[{source.Partition.Value}]@{letter.SourceOffset} to {topic}: {why}. " +
                "Stopping: the partition cannot move past that record, and a restart resumes from its checkpoint without losing anything."));
        }
    }

    /// <summary>How long a letter the producer's full queue refused waits before it is sent again.</summary>
    private static readonly TimeSpan QueueFullWait = TimeSpan.FromMilliseconds(10);

    private static bool IsTooLarge(ErrorCode code) =>
        code is ErrorCode.MsgSizeTooLarge or ErrorCode.RecordListTooLarge;

    private sealed record Letter(
        PartitionState State, Message<byte[]?, byte[]?> Message, string Reason, long SourceOffset, long FirstTriedAt, int Attempt, bool Truncated)
    {
        /// <summary>When it is sent again: a timestamp of the monotonic clock (<see cref="Monotonic"/>), as <see cref="FirstTriedAt"/> is.</summary>
        public long DueAt { get; init; }

        /// <summary>The dead letter's send span, over every attempt; null with tracing off.</summary>
        public System.Diagnostics.Activity? Span { get; init; }
    }

    private readonly record struct Outcome(Letter Letter, Error Error, Offset Offset);
}

/// <summary>A dead letter that can never be written; the processor stops rather than block its partition forever.</summary>
public sealed class DeadLetterWriteException(string message) : Exception(message);
