using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Orders.Contracts;

namespace Orders.Processor;

/// <summary>Builds the dead-letter copy of a record: original key and value bytes, original headers, and diagnostics.</summary>
public static class DeadLetterMessages
{
    public static Message<byte[]?, byte[]?> Build(
        ConsumeResult<byte[]?, byte[]?> record, string consumerGroup, string reason, Exception error, int attempts, DateTimeOffset failedAt)
    {
        var headers = new Headers();
        if (record.Message.Headers is { } original)
        {
            foreach (var header in original)
            {
                // A record that already went through a DLQ keeps only the newest diagnostics.
                if (!header.Key.StartsWith("dlq.", StringComparison.Ordinal))
                {
                    headers.Add(header.Key, header.GetValueBytes());
                }
            }
        }

        Add(headers, DeadLetterHeaders.OriginalTopic, record.Topic);
        Add(headers, DeadLetterHeaders.OriginalPartition, record.Partition.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.OriginalOffset, record.Offset.Value.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.OriginalTimestamp, record.Message.Timestamp.UnixTimestampMs.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.ConsumerGroup, consumerGroup);
        Add(headers, DeadLetterHeaders.Reason, reason);
        Add(headers, DeadLetterHeaders.ErrorType, error.GetType().FullName ?? error.GetType().Name);
        Add(headers, DeadLetterHeaders.ErrorMessage, error.Message);
        Add(headers, DeadLetterHeaders.ErrorStackTrace, Truncate(error.ToString(), DeadLetterHeaders.MaxStackTraceLength));
        Add(headers, DeadLetterHeaders.Attempts, attempts.ToString(CultureInfo.InvariantCulture));
        Add(headers, DeadLetterHeaders.FailedAt, failedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

        return new Message<byte[]?, byte[]?>
        {
            Key = record.Message.Key,
            Value = record.Message.Value,
            Headers = headers,
            Timestamp = new Timestamp(failedAt),
        };
    }

    public static string ReasonFor(FailureKind kind) => kind switch
    {
        FailureKind.Poison => DeadLetterHeaders.ReasonPoison,
        FailureKind.Invalid => DeadLetterHeaders.ReasonInvalid,
        FailureKind.Transient => DeadLetterHeaders.ReasonRetriesExhausted,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "a registry outage is never dead-lettered"),
    };

    private static void Add(Headers headers, string key, string value) => headers.Add(key, Encoding.UTF8.GetBytes(value));

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 3)] + "...";
}
