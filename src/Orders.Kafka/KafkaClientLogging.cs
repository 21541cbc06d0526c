using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Orders.Kafka;

/// <summary>Routes librdkafka's own log lines into the host's logging instead of raw stderr.</summary>
public static partial class KafkaClientLogging
{
    public static ProducerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ProducerBuilder<TKey, TValue> builder, ILogger logger) =>
        builder.SetLogHandler((_, message) => Write(logger, message));

    public static ConsumerBuilder<TKey, TValue> LogTo<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder, ILogger logger) =>
        builder.SetLogHandler((_, message) => Write(logger, message));

    public static AdminClientBuilder LogTo(this AdminClientBuilder builder, ILogger logger) =>
        builder.SetLogHandler((_, message) => Write(logger, message));

    public static LogLevel ToLogLevel(SyslogLevel level) => level switch
    {
        SyslogLevel.Emergency or SyslogLevel.Alert or SyslogLevel.Critical => LogLevel.Critical,
        SyslogLevel.Error => LogLevel.Error,
        SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };

    private static void Write(ILogger logger, LogMessage message) =>
        LibrdkafkaLog(logger, ToLogLevel(message.Level), message.Name, message.Facility, message.Message);

    [LoggerMessage(EventId = 100, Message = "librdkafka {Client} {Facility}: {Message}")]
    private static partial void LibrdkafkaLog(ILogger logger, LogLevel level, string client, string facility, string message);
}
