using Microsoft.Extensions.Logging;

namespace Orders.Processor;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Processor subscribed to {Topic} as group {Group}")]
    public static partial void Subscribed(ILogger logger, string topic, string group);

    [LoggerMessage(2, LogLevel.Information, "Partitions assigned: {Partitions}")]
    public static partial void Assigned(ILogger logger, string partitions);

    [LoggerMessage(3, LogLevel.Information, "Partitions revoked: {Partitions}")]
    public static partial void Revoked(ILogger logger, string partitions);

    [LoggerMessage(4, LogLevel.Warning, "Partitions lost: {Partitions}")]
    public static partial void Lost(ILogger logger, string partitions);

    [LoggerMessage(5, LogLevel.Warning, "Dead-lettered {Topic}[{Partition}]@{Offset} as {Reason}: {Error}")]
    public static partial void DeadLettered(ILogger logger, string topic, int partition, long offset, string reason, string error);

    [LoggerMessage(6, LogLevel.Debug, "Retrying {Topic}[{Partition}]@{Offset} in {DelayMs} ms (attempt {Attempt} failed: {Error})")]
    public static partial void Retrying(ILogger logger, string topic, int partition, long offset, long delayMs, int attempt, string error);

    [LoggerMessage(7, LogLevel.Warning, "Schema Registry unavailable; {Topic}[{Partition}] waits {DelayMs} ms and tries again: {Error}")]
    public static partial void RegistryUnavailable(ILogger logger, string topic, int partition, long delayMs, string error);

    [LoggerMessage(8, LogLevel.Error, "Dead-letter write failed for {Topic}[{Partition}]@{Offset}; its offset stays put and it will be retried: {Error}")]
    public static partial void DeadLetterFailed(ILogger logger, string topic, int partition, long offset, string error);

    [LoggerMessage(9, LogLevel.Information, "processed={Processed} retried={Retried} dead-lettered={DeadLettered} mean={Mean} last-minute-mean={LastMinuteMean} rate={Rate}/s")]
    public static partial void Status(ILogger logger, long processed, long retried, long deadLettered, string mean, string lastMinuteMean, string rate);

    [LoggerMessage(10, LogLevel.Error, "Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);

    [LoggerMessage(11, LogLevel.Warning, "Commit failed: {Error}")]
    public static partial void CommitFailed(ILogger logger, string error);

    [LoggerMessage(12, LogLevel.Information, "Idle for {Seconds} s: stopping")]
    public static partial void Idle(ILogger logger, double seconds);
}
