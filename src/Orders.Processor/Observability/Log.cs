using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Orders.Processor.Observability;

/// <summary>Every log line the processor writes, in one table: event ids, levels and texts are part of its interface (operators grep for them).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Processor subscribed to {Topic} as group {Group}")]
    public static partial void Subscribed(ILogger logger, string topic, string group);

    [LoggerMessage(2, LogLevel.Information, "Partitions assigned: {Partitions}")]
    public static partial void Assigned(ILogger logger, string partitions);

    [LoggerMessage(3, LogLevel.Information, "Partitions revoked: {Partitions}")]
    public static partial void Revoked(ILogger logger, string partitions);

    [LoggerMessage(4, LogLevel.Warning, "Partitions lost: {Partitions}; their state is dropped unwritten, their next owner restores it")]
    public static partial void Lost(ILogger logger, string partitions);

    [LoggerMessage(5, LogLevel.Warning, "Dead-lettered {Topic}[{Partition}]@{Offset} as {Reason}: {Error}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string reason, string error);

    [LoggerMessage(6, LogLevel.Debug, "Retrying {Topic}[{Partition}]@{Offset} in {DelayMs} ms (attempt {Attempt} failed: {Error})")]
    public static partial void Retrying(ILogger logger, string topic, int partition, long offset, long delayMs, int attempt, string error);

    [LoggerMessage(7, LogLevel.Warning, "Schema Registry unavailable; {Topic}[{Partition}] waits {DelayMs} ms and tries again: {Error}")]
    public static partial void RegistryUnavailable(ILogger logger, string topic, int partition, long delayMs, string error);

    [LoggerMessage(69, LogLevel.Information, "Stopping: asked to stop; checkpointing the {Partitions} partitions held and leaving the group")]
    public static partial void Stopping(ILogger logger, int partitions);

    [LoggerMessage(68, LogLevel.Warning, "{Calls} handler calls of partitions {Partitions} did not end within {Seconds} s of giving them up: left out of their checkpoints, to be handled again by their next owner")]
    public static partial void CallsAbandoned(ILogger logger, int calls, string partitions, double seconds);

    [LoggerMessage(67, LogLevel.Warning, "Schema Registry still unavailable: {Waits} more waits of partitions of {Topic} in the last {Seconds} s, not logged one by one: {Error}")]
    public static partial void RegistryStillUnavailable(ILogger logger, string topic, string error, int waits, long seconds);

    [LoggerMessage(9, LogLevel.Information, "processed={Processed} retried={Retried} dead-lettered={DeadLettered} mean={Mean} newest-minute-mean={MinuteMean} rate={Rate}/s")]
    public static partial void StatusLine(ILogger logger, long processed, long retried, long deadLettered, string mean, string minuteMean, string rate);

    [LoggerMessage(12, LogLevel.Information, "Idle for {Seconds} s: stopping")]
    public static partial void Idle(ILogger logger, double seconds);

    [LoggerMessage(62, LogLevel.Warning, "Cannot read the configs of {Topic} ({Error}): whether retention can delete its checkpoints is not checked, and checkpoint chunks are sized for the producer alone")]
    public static partial void StatsConfigsUnknown(ILogger logger, string topic, string error);

    [LoggerMessage(71, LogLevel.Warning, "{Topic} has min.insync.replicas={MinInsync}, more than the {Replicas} replica(s) set for the topics the processor creates (Processor:CreatedTopics:ReplicationFactor): they get min.insync.replicas={Replicas}, or no write to them could succeed")]
    public static partial void MinInsyncCapped(ILogger logger, string topic, int minInsync, short replicas);

    [LoggerMessage(70, LogLevel.Warning, "Cannot read the configs of {Topic} ({Error}): batches of dead letters are sized for the producer alone, and one the topic refuses is written again letter by letter, truncated")]
    public static partial void DeadLetterConfigsUnknown(ILogger logger, string topic, string error);

    [LoggerMessage(63, LogLevel.Warning, "Cannot read the configs of {Topic} ({Error}): the topics created for it get the cluster's default min.insync.replicas")]
    public static partial void InputConfigsUnknown(ILogger logger, string topic, string error);

    [LoggerMessage(64, LogLevel.Debug, "Compiled {Prepared} methods ahead in {Milliseconds:0} ms ({Failed} left to their first call)")]
    public static partial void CompiledAhead(ILogger logger, int prepared, int failed, double milliseconds);

    [LoggerMessage(65, LogLevel.Debug, "Writer schema {SchemaId} of {Subject} resolved ahead of the records")]
    public static partial void WriterSchemaResolved(ILogger logger, int schemaId, string subject);

    [LoggerMessage(66, LogLevel.Debug, "Writer schema of {Subject} not resolved ahead ({Error}); records resolve theirs as they come")]
    public static partial void WriterSchemaNotResolved(ILogger logger, string subject, string? error);

    [LoggerMessage(61, LogLevel.Information, "Group protocol: {Protocol} ({Reason})")]
    public static partial void GroupProtocol(ILogger logger, string protocol, string reason);

    [LoggerMessage(13, LogLevel.Information, "Topics: {Topic} ({Partitions} partitions), dead letters to {DeadLetterTopic} ({DeadLetterPartitions}), checkpoints to {StatsTopic}")]
    public static partial void Layout(ILogger logger, string topic, int partitions, string deadLetterTopic, int deadLetterPartitions, string statsTopic);

    [LoggerMessage(15, LogLevel.Information, "Restored {Topic}[{Partition}] at offset {Offset} from checkpoint {CheckpointId}: {Orders} orders; {Decisions} dead letters since to honour ({Duplicates} duplicates)")]
    public static partial void Restored(ILogger logger, string topic, int partition, long offset, long orders, int decisions, int duplicates, string checkpointId);

    [LoggerMessage(16, LogLevel.Warning, "Cannot restore {Topic}[{Partitions}] yet; they stay paused and are tried again in {DelayMs} ms: {Error}")]
    public static partial void RestoreFailed(ILogger logger, string topic, string partitions, long delayMs, string error);

    [LoggerMessage(72, LogLevel.Warning, "Cannot restore {Topic}[{Partitions}] together; trying each alone: {Error}")]
    public static partial void RestoreFailedTogether(ILogger logger, string topic, string partitions, string error);

    [LoggerMessage(74, LogLevel.Information, "Partitions assigned while the processor is closing: {Partitions}; not restored, the close gives them back")]
    public static partial void AssignedWhileClosing(ILogger logger, string partitions);

    [LoggerMessage(75, LogLevel.Information, "Reading the state of {Topic}[{Partitions}] given up: revoked while it was read (an assignment since restores them afresh)")]
    public static partial void RestoreGivenUp(ILogger logger, string topic, string partitions);

    [LoggerMessage(76, LogLevel.Information, "Restoring {Topic}[{Partition}] waits for the dead letters sent for it before it was last given up: read before they are written, their records would be decided again")]
    public static partial void RestoreWaitsForDeadLetters(ILogger logger, string topic, int partition);

    [LoggerMessage(77, LogLevel.Information, "Seek of {Topic}[{Partition}] to {Offset} made later: the client has not started fetching the partition yet (an offset commit still outstanding, say); its records wait for it")]
    public static partial void SeekDeferred(ILogger logger, string topic, int partition, long offset);

    [LoggerMessage(78, LogLevel.Warning, "{Topic}[{Partition}]: a record at offset {Offset} arrived below the state's offset {NextOffset}; seeking to {NextOffset} again (the client moved the partition: an offset query outdated by a seek restarts from the partition's start)")]
    public static partial void SeekingBackToPosition(ILogger logger, string topic, int partition, long offset, long nextOffset);

    [LoggerMessage(73, LogLevel.Information, "Read the state of {Topic}[{Partitions}] after they were revoked: not restored (an assignment since restores them afresh)")]
    public static partial void RestoreOutdated(ILogger logger, string topic, string partitions);

    [LoggerMessage(29, LogLevel.Information, "Restoring {Topic}[{Partitions}] given up: the processor is stopping (their next owner restores them)")]
    public static partial void RestoreAbandoned(ILogger logger, string topic, string partitions);

    [LoggerMessage(17, LogLevel.Information, "{Topic}[{Partition}]@{Offset} was dead-lettered ({Reason}, at dead-letter offset {DeadLetterOffset}) before a restart: honoured, not decided again")]
    public static partial void Honoured(ILogger logger, string topic, int partition, long offset, string reason, long deadLetterOffset);

    [LoggerMessage(18, LogLevel.Debug, "Offset of {Topic}[{Partition}] not stored: {Error}")]
    public static partial void StoreFailed(ILogger logger, string topic, int partition, string error);

    [LoggerMessage(19, LogLevel.Warning, "Consume error {Code}: {Reason}")]
    public static partial void ConsumeError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(20, LogLevel.Error, "{Topic}[{Partition}]: {Lost} records were deleted by retention before they were read (offsets {From} to {Last}, less any already dead-lettered); they are missing from the averages, counted as skipped-by-retention")]
    public static partial void RecordsLost(ILogger logger, string topic, int partition, long lost, long from, long last);

    [LoggerMessage(21, LogLevel.Warning, "{Topic}[{Partition}] not checkpointed on release ({Pending} dead letter(s) unacknowledged, or the checkpoint not acknowledged in time); its next owner reprocesses from the previous checkpoint")]
    public static partial void NotCheckpointed(ILogger logger, string topic, int partition, int pending);

    [LoggerMessage(22, LogLevel.Error, "{Topic}[{Partition}]: a record at offset {Offset} arrived below the state's offset {NextOffset}: the topic was deleted and created again, or truncated. Records below the state's offset are ignored; start a new group (or delete its checkpoints) to count the new records")]
    public static partial void OffsetsWentBack(ILogger logger, string topic, int partition, long offset, long nextOffset);

    [LoggerMessage(23, LogLevel.Warning, "Leaving the group failed: {Error}; the group reassigns the partitions after its session timeout")]
    public static partial void CloseFailed(ILogger logger, string error);

    [LoggerMessage(24, LogLevel.Warning, "The consumer did not leave its group within {Seconds} s; stopping without it. Every partition's state is checkpointed; the group reassigns the partitions after its session timeout")]
    public static partial void CloseTimedOut(ILogger logger, double seconds);

    [LoggerMessage(27, LogLevel.Warning, "The consumer did not leave its group within {Seconds} s; stopping without it. {Partitions} partition(s) have no checkpoint of their last state (logged above): their next owner reprocesses from the previous one; the group reassigns the partitions after its session timeout")]
    public static partial void CloseTimedOutNotCheckpointed(ILogger logger, double seconds, int partitions);

    [LoggerMessage(28, LogLevel.Warning, "{Count} record(s) (dead letters or checkpoints) were still unsent after the close's last wait of {Seconds} s: they may yet be written while the group is left, else they go with the producer; no checkpoint covers a dead letter among them, so the partition's next owner writes it again")]
    public static partial void UnsentAtClose(ILogger logger, int count, double seconds);

    [LoggerMessage(25, LogLevel.Warning, "The consumer's polling thread did not leave its poll within {Seconds} s; the consumer is left to the process's end")]
    public static partial void FetchAheadStuck(ILogger logger, double seconds);

    [LoggerMessage(26, LogLevel.Warning, "A rebalance callback failed while closing: {Error}")]
    public static partial void CallbackFailedWhileClosing(ILogger logger, string error);

    [LoggerMessage(30, LogLevel.Warning, "Skipping {Topic}[{Partition}]@{Offset}: not a usable checkpoint ({Reason})")]
    public static partial void CheckpointSkipped(ILogger logger, string topic, int partition, long offset, string reason);

    [LoggerMessage(40, LogLevel.Warning, "Dead letter of {Topic}[{Partition}]@{Offset} ({Bytes} bytes) is too large for the dead-letter topic ({Error}); writing it truncated")]
    public static partial void DeadLetterTruncating(ILogger logger, string topic, int partition, long offset, int bytes, string error);

    [LoggerMessage(41, LogLevel.Warning, "Dead letter of {Topic}[{Partition}]@{Offset} not written ({Error}); trying again in {DelayMs} ms")]
    public static partial void DeadLetterRetrying(ILogger logger, string topic, int partition, long offset, long delayMs, string error);

    [LoggerMessage(50, LogLevel.Warning, "Checkpoint of {Topic}[{Partition}] not written ({Error}); the next one will try again")]
    public static partial void CheckpointFailed(ILogger logger, string topic, int partition, string error);

    [LoggerMessage(51, LogLevel.Warning, "Cannot register the checkpoint schema for {StatsTopic} yet ({Error}); processing goes on, checkpoints wait")]
    public static partial void CheckpointRegistrationFailed(ILogger logger, string statsTopic, string error);

    [LoggerMessage(60, LogLevel.Warning, "Topic {Topic} does not exist yet; waiting for it")]
    public static partial void TopicMissing(ILogger logger, string topic);
}
