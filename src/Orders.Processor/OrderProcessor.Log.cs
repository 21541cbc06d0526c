using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Orders.Processor;

public sealed partial class OrderProcessor
{
    [LoggerMessage(1, LogLevel.Information, "Processor subscribed to {Topic} as group {Group}")]
    private static partial void LogSubscribed(ILogger logger, string topic, string group);

    [LoggerMessage(2, LogLevel.Information, "Partitions assigned: {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(3, LogLevel.Information, "Partitions revoked: {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string partitions);

    [LoggerMessage(4, LogLevel.Warning, "Partitions lost: {Partitions}; their state is dropped unwritten, their next owner restores it")]
    private static partial void LogLost(ILogger logger, string partitions);

    [LoggerMessage(5, LogLevel.Warning, "Dead-lettered {Topic}[{Partition}]@{Offset} as {Reason}: {Error}")]
    private static partial void LogDeadLettered(ILogger logger, string topic, int partition, long offset, string reason, string error);

    [LoggerMessage(6, LogLevel.Debug, "Retrying {Topic}[{Partition}]@{Offset} in {DelayMs} ms (attempt {Attempt} failed: {Error})")]
    private static partial void LogRetrying(ILogger logger, string topic, int partition, long offset, long delayMs, int attempt, string error);

    [LoggerMessage(7, LogLevel.Warning, "Schema Registry unavailable; {Topic}[{Partition}] waits {DelayMs} ms and tries again: {Error}")]
    private static partial void LogRegistryUnavailable(ILogger logger, string topic, int partition, long delayMs, string error);

    [LoggerMessage(9, LogLevel.Information, "processed={Processed} retried={Retried} dead-lettered={DeadLettered} mean={Mean} newest-minute-mean={MinuteMean} rate={Rate}/s")]
    private static partial void LogStatusLine(ILogger logger, long processed, long retried, long deadLettered, string mean, string minuteMean, string rate);

    [LoggerMessage(10, LogLevel.Error, "Kafka error {Code}: {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(23, LogLevel.Warning, "Leaving the group failed: {Error}; the group reassigns the partitions after its session timeout")]
    private static partial void LogCloseFailed(ILogger logger, string error);

    [LoggerMessage(24, LogLevel.Warning, "The consumer did not leave its group within {Seconds} s; stopping without it. Every partition's state is checkpointed; the group reassigns the partitions after its session timeout")]
    private static partial void LogCloseTimedOut(ILogger logger, double seconds);

    [LoggerMessage(12, LogLevel.Information, "Idle for {Seconds} s: stopping")]
    private static partial void LogIdle(ILogger logger, double seconds);

    [LoggerMessage(13, LogLevel.Information, "Topics: {Topic} ({Partitions} partitions), dead letters to {DeadLetterTopic} ({DeadLetterPartitions}), checkpoints to {StatsTopic}")]
    private static partial void LogLayout(ILogger logger, string topic, int partitions, string deadLetterTopic, int deadLetterPartitions, string statsTopic);

    [LoggerMessage(15, LogLevel.Information, "Restored {Topic}[{Partition}] at offset {Offset} from checkpoint {CheckpointId}: {Orders} orders; {Decisions} dead letters since to honour ({Duplicates} duplicates)")]
    private static partial void LogRestored(ILogger logger, string topic, int partition, long offset, long orders, int decisions, int duplicates, string checkpointId);

    [LoggerMessage(16, LogLevel.Warning, "Cannot restore {Topic}[{Partitions}] yet; they stay paused and are tried again in {DelayMs} ms: {Error}")]
    private static partial void LogRestoreFailed(ILogger logger, string topic, string partitions, long delayMs, string error);

    [LoggerMessage(17, LogLevel.Information, "{Topic}[{Partition}]@{Offset} was dead-lettered ({Reason}, at dead-letter offset {DeadLetterOffset}) before a restart: honoured, not decided again")]
    private static partial void LogHonoured(ILogger logger, string topic, int partition, long offset, string reason, long deadLetterOffset);

    [LoggerMessage(18, LogLevel.Debug, "Offset of {Topic}[{Partition}] not stored: {Error}")]
    private static partial void LogStoreFailed(ILogger logger, string topic, int partition, string error);

    [LoggerMessage(19, LogLevel.Warning, "Consume error {Code}: {Reason}")]
    private static partial void LogConsumeError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(20, LogLevel.Error, "{Topic}[{Partition}]: {Lost} records were deleted by retention before they were read (offsets {From} to {Start}, less any already dead-lettered); they are missing from the averages, counted as skipped-by-retention")]
    private static partial void LogRecordsLost(ILogger logger, string topic, int partition, long lost, long from, long start);

    [LoggerMessage(22, LogLevel.Error, "{Topic}[{Partition}]: a record at offset {Offset} arrived below the state's offset {NextOffset}: the topic was deleted and created again, or truncated. Records below the state's offset are ignored; start a new group (or delete its checkpoints) to count the new records")]
    private static partial void LogOffsetsWentBack(ILogger logger, string topic, int partition, long offset, long nextOffset);

    [LoggerMessage(21, LogLevel.Warning, "{Topic}[{Partition}] not checkpointed on release ({Pending} dead letter(s) unacknowledged, or the checkpoint not acknowledged in time); its next owner reprocesses from the previous checkpoint")]
    private static partial void LogNotCheckpointed(ILogger logger, string topic, int partition, int pending);
}
