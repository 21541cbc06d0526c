using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Processor.DeadLetters;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// What a failure's outcome writes and says, for <see cref="RecordProcessor.End"/>: the dead letter
/// (the one dead-letter path, for poison, invalid orders and exhausted retries alike), and the
/// counters, log lines and span events of a retry or a wait. Deciding is the
/// <see cref="Failures.FailurePolicy"/>'s; what happens next to the record, the processor's.
/// </summary>
internal sealed class RecordFailures(DeadLetterWriter deadLetters, ProcessorStatus status, string group, TimeProvider time, ILogger logger)
{
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

    /// <param name="attempt">The attempt that failed (1 for the first).</param>
    public void Retrying(ConsumeResult<byte[]?, byte[]?> record, Activity? span, RecordOutcome outcome, int attempt)
    {
        status.Counters.RetriedOne();
        ProcessorTracing.Retrying(span, Failures.FailureClassifier.Classify(outcome.Error!).ToString(), attempt, outcome.Delay, outcome.Error!);
        Log.Retrying(logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)outcome.Delay.TotalMilliseconds, attempt, outcome.Error!.Message);
    }

    /// <param name="tries">The tries so far, failures and waits together, this one included.</param>
    public void WaitingForRegistry(ConsumeResult<byte[]?, byte[]?> record, Activity? span, RecordOutcome outcome, int tries)
    {
        status.Counters.WaitedForRegistry();
        ProcessorTracing.Retrying(span, "registry-unavailable", tries, outcome.Delay, outcome.Error!);
        Log.RegistryUnavailable(logger, record.Topic, record.Partition.Value, (long)outcome.Delay.TotalMilliseconds, outcome.Error!.Message);
    }
}
