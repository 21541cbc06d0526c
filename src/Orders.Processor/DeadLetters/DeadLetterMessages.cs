using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Failures;

namespace Orders.Processor.DeadLetters;

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

    /// <summary>The longest original key a truncated dead letter keeps.</summary>
    public const int MaxKeptKeyBytes = 1024;

    /// <summary>
    /// A dead letter cut down to its diagnostics, for when the full copy cannot be written (larger
    /// than the dead-letter topic takes): the value, a long key, the original headers and the stack
    /// trace go; <c>dlq.truncated</c> says what went and why; the origin headers say where the
    /// original still is.
    /// </summary>
    public static Message<byte[]?, byte[]?> Truncated(Message<byte[]?, byte[]?> letter, string why)
    {
        var headers = new Headers();
        var removedHeaders = 0;
        foreach (var header in letter.Headers ?? [])
        {
            if (header.Key.StartsWith("dlq.", StringComparison.Ordinal) && header.Key != DeadLetterHeaders.ErrorStackTrace)
            {
                headers.Add(header.Key, header.GetValueBytes());
            }
            else if (header.Key != DeadLetterHeaders.ErrorStackTrace)
            {
                removedHeaders++;
            }
        }

        var keepKey = letter.Key is null || letter.Key.Length <= MaxKeptKeyBytes;
        var removed = new List<string> { $"value ({letter.Value?.Length ?? 0} bytes)" };
        if (!keepKey)
        {
            removed.Add($"key ({letter.Key!.Length} bytes)");
        }

        if (removedHeaders > 0)
        {
            removed.Add($"{removedHeaders} original header(s)");
        }

        removed.Add("stack trace");
        Add(headers, DeadLetterHeaders.Truncated, $"{why}; removed: {string.Join(", ", removed)}");
        return new Message<byte[]?, byte[]?>
        {
            Key = keepKey ? letter.Key : null,
            Value = null,
            Headers = headers,
            Timestamp = letter.Timestamp,
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

/// <summary>Where a dead letter came from and why, from its <c>dlq.*</c> headers.</summary>
public sealed record DeadLetterOrigin(string Topic, int Partition, long Offset, string Group, string Reason)
{
    /// <returns>The origin, or null when the headers do not name one completely (not one of ours).</returns>
    public static DeadLetterOrigin? From(Headers? headers)
    {
        if (headers is null
            || Text(headers, DeadLetterHeaders.OriginalTopic) is not { } topic
            || !int.TryParse(Text(headers, DeadLetterHeaders.OriginalPartition), NumberStyles.None, CultureInfo.InvariantCulture, out var partition)
            || !long.TryParse(Text(headers, DeadLetterHeaders.OriginalOffset), NumberStyles.None, CultureInfo.InvariantCulture, out var offset)
            || Text(headers, DeadLetterHeaders.ConsumerGroup) is not { } group
            || Text(headers, DeadLetterHeaders.Reason) is not { } reason)
        {
            return null;
        }

        return new DeadLetterOrigin(topic, partition, offset, group, reason);
    }

    private static string? Text(Headers headers, string key) =>
        headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
