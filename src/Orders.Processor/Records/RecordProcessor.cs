using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;
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
/// What happens to one record: the <see cref="OrderPipeline"/>, then, if it failed, the
/// <see cref="FailurePolicy"/>'s decision: retry (pause the partition, rewind to the record, try
/// again after the backoff), wait for the registry (likewise, spending no attempt), or dead-letter.
/// Invalid orders and the policy's dead letters take the one dead-letter path.
/// </summary>
public sealed class RecordProcessor(
    OrderPipeline pipeline,
    FailurePolicy policy,
    PausedPartitions paused,
    DeadLetterWriter deadLetters,
    IConsumerPort consumer,
    ProcessorStatus status,
    string group,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger,
    Observability.ProcessorMetrics? metrics = null,
    IRecordObserver? observer = null)
{
    private readonly ProcessorCounters _counters = status.Counters;

    /// <summary>The record in hand is finished even if shutdown was requested meanwhile (the token only reaches the handler).</summary>
    /// <returns>True when the record reached an outcome (processed or dead-lettered); false when it waits to be tried again.</returns>
    public async ValueTask<bool> ProcessAsync(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, CancellationToken cancellationToken)
    {
        var (failures, registryWaits) = paused.Count > 0 ? paused.History(record.TopicPartitionOffset) : (0, 0);
        var startedAt = metrics?.StartProcessing();
        try
        {
            if (await pipeline.RunAsync(record, state.Aggregate, cancellationToken) is { } invalid)
            {
                metrics?.Processed(startedAt, FailureKind.Invalid);
                DeadLetter(state, record, DeadLetterHeaders.ReasonInvalid, new InvalidOrderException(invalid), failures + 1);
                return true;
            }

            metrics?.Processed(startedAt);
            _counters.ProcessedOne();
            Done(state, record);
            observer?.Processed(record);
            return true;
        }
        catch (Exception error) when (SchemaRegistryErrors.IsCredentialsRejected(error))
        {
            // Retrying cannot fix credentials: stop, with the record still unprocessed.
            fatal.Set(new RegistryCredentialsException(error));
            Rewind(record, failures, registryWaits, policy.MaxDelay);
            return false;
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var kind = FailureClassifier.Classify(error);
            metrics?.Processed(startedAt, kind);
            return Failed(state, record, error, policy.Decide(kind, failures, registryWaits), failures, registryWaits);
        }
    }

    /// <summary>Resumes the partitions whose backoff has passed.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends.</returns>
    public TimeSpan ResumeDue()
    {
        var due = paused.TakeDue(out var wait);
        if (due.Count > 0)
        {
            consumer.Resume(due);
        }

        return wait;
    }

    /// <returns>Whether the record reached an outcome (dead-lettered).</returns>
    private bool Failed(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, Exception error, FailureDecision decided, int failures, int registryWaits)
    {
        switch (decided.Action)
        {
            case FailureAction.WaitForRegistry:
                _counters.WaitedForRegistry();
                Log.RegistryUnavailable(logger, record.Topic, record.Partition.Value, (long)decided.Delay.TotalMilliseconds, error.Message);
                Rewind(record, failures, registryWaits + 1, decided.Delay);
                return false;
            case FailureAction.Retry:
                _counters.RetriedOne();
                Log.Retrying(logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)decided.Delay.TotalMilliseconds, failures + 1, error.Message);
                Rewind(record, failures + 1, 0, decided.Delay);
                return false;
            default:
                DeadLetter(state, record, decided.Reason!, error, failures + 1);
                return true;
        }
    }

    private void DeadLetter(PartitionState state, ConsumeResult<byte[]?, byte[]?> record, string reason, Exception error, int attempts)
    {
        var now = time.GetUtcNow();
        var message = DeadLetterMessages.Build(record, group, reason, error, attempts, now);
        deadLetters.Write(state, message, reason, record.Offset.Value);
        status.RecentDeadLetters.Add(now, record.Topic, record.Partition.Value, record.Offset.Value, reason, error);
        state.Aggregate.AddDeadLetter(reason);
        Log.DeadLettered(logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        Done(state, record);
    }

    private void Done(PartitionState state, ConsumeResult<byte[]?, byte[]?> record)
    {
        if (paused.Count > 0)
        {
            paused.Clear(record.TopicPartition);
        }

        state.Advance(record.Offset.Value);
    }

    private void Rewind(ConsumeResult<byte[]?, byte[]?> record, int failures, int registryWaits, TimeSpan delay)
    {
        paused.Pause(record.TopicPartitionOffset, failures, registryWaits, delay);
        consumer.Pause([record.TopicPartition]);
        consumer.Seek(record.TopicPartitionOffset);
    }
}
