using Microsoft.Extensions.Logging;

namespace Orders.LocalStack.Kafka;

internal static partial class LocalStackLog
{
    [LoggerMessage(EventId = 905, Level = LogLevel.Information, Message = "{Topic}[{Partition}]: record batch refused (MESSAGE_TOO_LARGE): {Reason}")]
    public static partial void BatchTooLarge(ILogger logger, string topic, int partition, string reason);

    [LoggerMessage(EventId = 900, Level = LogLevel.Warning, Message = "Kafka relay closed the connection from {Client}: it sent {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, string? client, string reason);

    [LoggerMessage(EventId = 901, Level = LogLevel.Error, Message = "Kafka relay closed the connection from {Client} after an unexpected error")]
    public static partial void ConnectionFailed(ILogger logger, string? client, Exception exception);

    [LoggerMessage(EventId = 902, Level = LogLevel.Warning, Message = "{Topic}[{Partition}]: {Dropped:N0} oldest records dropped (the local stack keeps ~5 MiB per partition)")]
    public static partial void RecordsDropped(ILogger logger, string topic, int partition, long dropped);

    [LoggerMessage(EventId = 904, Level = LogLevel.Information, Message = "{Topic}[{Partition}]: {Deleted:N0} records older than retention.ms={RetentionMs} deleted")]
    public static partial void RetentionDeleted(ILogger logger, string topic, int partition, long deleted, long retentionMs);

    [LoggerMessage(EventId = 903, Level = LogLevel.Debug, Message = "Retention check skipped: {Reason}")]
    public static partial void RetentionCheckFailed(ILogger logger, string reason);
}
