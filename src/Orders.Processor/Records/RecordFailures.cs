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
    /// <summary>
    /// How long waits for the registry, for the same reason, are counted instead of logged: every partition
    /// waits on its own, once per backoff, so an outage would write a line per partition per backoff
    /// (64 lines in 36 s measured with 6 partitions). The next line logged gives the count.
    /// </summary>
    internal static readonly TimeSpan RegistryLogWindow = TimeSpan.FromSeconds(10);

    private readonly Lock _registryLog = new();
    private long? _registryLoggedAt;
    private string? _registryReason;
    private int _registryWaitsNotLogged;

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
        var reason = outcome.Error!.Message;
        int notLogged;
        long seconds;
        lock (_registryLog)
        {
            var now = time.GetTimestamp();
            if (_registryLoggedAt is { } at && reason == _registryReason && time.GetElapsedTime(at, now) < RegistryLogWindow)
            {
                _registryWaitsNotLogged++;
                return;
            }

            (notLogged, seconds) = (_registryWaitsNotLogged, _registryLoggedAt is { } last ? (long)Math.Round(time.GetElapsedTime(last, now).TotalSeconds) : 0);
            (_registryLoggedAt, _registryReason, _registryWaitsNotLogged) = (now, reason, 0);
        }

        var delay = (long)outcome.Delay.TotalMilliseconds;
        if (notLogged == 0)
        {
            Log.RegistryUnavailable(logger, record.Topic, record.Partition.Value, delay, reason);
        }
        else
        {
            Log.RegistryStillUnavailable(logger, record.Topic, record.Partition.Value, delay, reason, notLogged, seconds);
        }
    }
}
