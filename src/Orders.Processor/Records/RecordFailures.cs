using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Loop;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// What the <see cref="FailurePolicy"/> decided for a record that failed, carried out: a registry
/// that cannot be reached holds the partition, which reads the record again after the wait (every record needs it); a
/// transient failure is retried, a handler's alone after its backoff; poison, invalid orders and
/// exhausted retries take the one dead-letter path.
/// </summary>
internal sealed class RecordFailures(
    FailurePolicy policy,
    FetchControl fetch,
    DeadLetterWriter deadLetters,
    ProcessorStatus status,
    string group,
    FlowControl flow,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger,
    ProcessorMetrics? metrics)
{
    /// <summary>A handler attempt failed: retried after its backoff, the registry waited for, or dead-lettered.</summary>
    /// <returns>The retry's delay; null when the record was dead-lettered (done).</returns>
    public TimeSpan? Failed(WorkItem item, Exception error)
    {
        var record = item.Record;
        if (fatal.StopsOnRejectedCredentials(error))
        {
            return policy.MaxDelay;
        }

        var kind = FailureClassifier.Classify(error);
        metrics?.Processed(item.StartedAt, kind);
        var decided = policy.Decide(kind, item.Failures, item.RegistryWaits);
        using var current = ProcessorTracing.Current(item.Span);
        switch (decided.Action)
        {
            case FailureAction.Retry:
                status.Counters.RetriedOne();
                item.Failures++;
                ProcessorTracing.Retrying(item.Span, kind.ToString(), item.Failures, decided.Delay, error);
                Log.Retrying(logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)decided.Delay.TotalMilliseconds, item.Failures, error.Message);
                return decided.Delay;
            case FailureAction.WaitForRegistry:
                status.Counters.WaitedForRegistry();
                item.RegistryWaits++;
                ProcessorTracing.Retrying(item.Span, "registry-unavailable", item.Failures + item.RegistryWaits, decided.Delay, error);
                Log.RegistryUnavailable(logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                return decided.Delay;
            default:
                DeadLetter(item.State, record, item.Span, decided.Reason!, error, item.Failures + 1);
                item.State.Complete(record.Offset.Value, started: true);
                flow.Apply(item.State);
                return null;
        }
    }

    /// <summary>A record that could not be read: poison is dead-lettered at once; a registry away rewinds the partition to it.</summary>
    public bool Unreadable(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Activity? span, Exception error, int failures, int registryWaits, long? startedAt)
    {
        if (fatal.StopsOnRejectedCredentials(error))
        {
            // Retrying cannot fix credentials: stop, with the record still unprocessed.
            ProcessorTracing.End(span, "stopped", error);
            fetch.WaitToRead(record.TopicPartitionOffset, failures, registryWaits, policy.MaxDelay, FetchHold.Registry);
            return false;
        }

        var kind = FailureClassifier.Classify(error);
        metrics?.Processed(startedAt, kind);
        var decided = policy.Decide(kind, failures, registryWaits);
        switch (decided.Action)
        {
            case FailureAction.WaitForRegistry:
                status.Counters.WaitedForRegistry();
                Log.RegistryUnavailable(logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                // Read again once the wait is over, in a span of its own.
                ProcessorTracing.Retrying(span, "registry-unavailable", failures + registryWaits + 1, decided.Delay, error);
                ProcessorTracing.End(span, "registry-unavailable");
                fetch.WaitToRead(record.TopicPartitionOffset, failures, registryWaits + 1, decided.Delay, FetchHold.Registry);
                return false;
            case FailureAction.Retry:
                // Not the bytes' fault, nor the registry's (a decoder error of ours): tried again as the record it is.
                status.Counters.RetriedOne();
                Log.Retrying(logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)decided.Delay.TotalMilliseconds, failures + 1, error.Message);
                ProcessorTracing.Retrying(span, kind.ToString(), failures + 1, decided.Delay, error);
                ProcessorTracing.End(span, "retry");
                fetch.WaitToRead(record.TopicPartitionOffset, failures + 1, 0, decided.Delay, FetchHold.Retry);
                return false;
        }

        DeadLetter(state, record, span, decided.Reason!, error, failures + 1);
        if (fetch.HasRetries)
        {
            fetch.Read(record.TopicPartition);
        }

        state.Advance(record.Offset.Value);
        return true;
    }

    public void DeadLetter(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, Activity? span, string reason, Exception error, int attempts)
    {
        var now = time.GetUtcNow();
        var message = DeadLetterMessages.Build(record, group, reason, error, attempts, now);
        deadLetters.Write(state, message, reason, record.Offset.Value, span);
        status.RecentDeadLetters.Add(now, record.Topic, record.Partition.Value, record.Offset.Value, reason, error);
        state.Aggregate.AddDeadLetter(reason);
        Log.DeadLettered(logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        ProcessorTracing.End(span, reason, error);
    }
}
