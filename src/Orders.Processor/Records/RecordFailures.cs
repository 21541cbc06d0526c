using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Processor.DeadLetters;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// What a failure's outcome writes and says, for <see cref="RecordProcessor.End"/>: the dead letter
/// (the one dead-letter path, for poison, invalid orders and exhausted retries alike), and the
/// counters, log lines and span events of a retry or a wait. Deciding is the
/// <see cref="Failures.FailurePolicy"/>'s; what happens next to the record, the processor's.
/// Disposed when the loop closes: the waits still counted are logged then.
/// </summary>
internal sealed class RecordFailures : IDisposable
{
    /// <summary>
    /// How long waits for the registry, for the same reason, are counted instead of logged: every partition
    /// waits on its own, once per backoff, so an outage would write a line per partition per backoff
    /// (64 lines in 36 s measured with 6 partitions). The first is logged; the count of the rest, when the window ends.
    /// </summary>
    internal static readonly TimeSpan RegistryLogWindow = TimeSpan.FromSeconds(10);

    private readonly DeadLetterWriter _deadLetters;
    private readonly ProcessorStatus _status;
    private readonly string _group;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RepeatSuppressor<RegistryWait> _registryWaits;

    public RecordFailures(DeadLetterWriter deadLetters, ProcessorStatus status, string group, TimeProvider time, ILogger logger)
    {
        (_deadLetters, _status, _group, _time, _logger) = (deadLetters, status, group, time, logger);
        _registryWaits = new RepeatSuppressor<RegistryWait>(time, RegistryLogWindow, (first, waits, over) =>
            Log.RegistryStillUnavailable(logger, first.Topic, first.Reason, waits, (long)Math.Round(over.TotalSeconds)));
    }

    public void DeadLetter(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, Activity? span, string reason, Exception error, int attempts)
    {
        var now = _time.GetUtcNow();
        var message = DeadLetterMessages.Build(record, _group, reason, error, attempts, now);
        _deadLetters.Write(state, message, reason, record.Offset.Value, span);
        _status.RecentDeadLetters.Add(now, record.Topic, record.Partition.Value, record.Offset.Value, reason, error);
        state.Aggregate.AddDeadLetter(reason);
        Log.DeadLettered(_logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        ProcessorTracing.End(span, reason, error);
    }

    /// <param name="attempt">The attempt that failed (1 for the first).</param>
    public void Retrying(ConsumeResult<byte[]?, byte[]?> record, Activity? span, RecordOutcome outcome, int attempt)
    {
        _status.Counters.RetriedOne();
        ProcessorTracing.Retrying(span, Failures.FailureClassifier.Classify(outcome.Error!).ToString(), attempt, outcome.Delay, outcome.Error!);
        Log.Retrying(_logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)outcome.Delay.TotalMilliseconds, attempt, outcome.Error!.Message);
    }

    /// <param name="tries">The tries so far, failures and waits together, this one included.</param>
    public void WaitingForRegistry(ConsumeResult<byte[]?, byte[]?> record, Activity? span, RecordOutcome outcome, int tries)
    {
        _status.Counters.WaitedForRegistry();
        ProcessorTracing.Retrying(span, "registry-unavailable", tries, outcome.Delay, outcome.Error!);
        var reason = outcome.Error!.Message;
        if (_registryWaits.ShouldLog(reason, new RegistryWait(record.Topic, reason)))
        {
            Log.RegistryUnavailable(_logger, record.Topic, record.Partition.Value, (long)outcome.Delay.TotalMilliseconds, reason);
        }
    }

    /// <summary>Logs the waits still counted.</summary>
    public void Dispose() => _registryWaits.Dispose();

    /// <summary>What the count of a window's waits is reported with.</summary>
    private readonly record struct RegistryWait(string Topic, string Reason);
}
