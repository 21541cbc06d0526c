using Microsoft.Extensions.Logging;

namespace Orders.DeadLetters;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Debug, "Replayed {Letter} as {Copy}")]
    public static partial void Replayed(ILogger logger, string letter, string copy);

    [LoggerMessage(2, LogLevel.Warning, "Skipped {Letter}: {Why}")]
    public static partial void Skipped(ILogger logger, string letter, string why);

    [LoggerMessage(3, LogLevel.Error, "Replay of {Letter} not acknowledged: {Error}")]
    public static partial void PublishFailed(ILogger logger, string letter, string error);

    [LoggerMessage(4, LogLevel.Debug, "Scanning {Topic}[{Partition}] from offset {From} to {End} for earlier replays")]
    public static partial void Scanning(ILogger logger, string topic, int partition, long from, long end);

    [LoggerMessage(5, LogLevel.Error, "Kafka error {Code}: {Reason}")]
    public static partial void KafkaError(ILogger logger, Confluent.Kafka.ErrorCode code, string reason);
}
