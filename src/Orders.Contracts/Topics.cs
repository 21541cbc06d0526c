namespace Orders.Contracts;

/// <summary>Topic names of the system (their records: README.md and docs/DEAD-LETTERS.md).</summary>
public static class Topics
{
    public const string Orders = "orders";
    public const string DeadLetter = "orders_dlq";
    public const string Stats = "orders_stats";

    /// <summary>The dead-letter topic of a source topic: <c>orders</c> has <c>orders_dlq</c>, any other <c>{topic}_dlq</c>.</summary>
    public static string DeadLetterFor(string topic) => topic == Orders ? DeadLetter : $"{topic}_dlq";

    /// <summary>
    /// The checkpoint topic of a source topic (<c>orders_stats</c>, any other <c>{topic}_stats</c>):
    /// co-partitioned with it, partition p holding the checkpoints of source partition p.
    /// </summary>
    public static string StatsFor(string topic) => $"{topic}_stats";

    /// <summary>The Schema Registry subject of a topic's values under Confluent's default naming (TopicNameStrategy): <c>{topic}-value</c>.</summary>
    public static string ValueSubjectFor(string topic) => $"{topic}-value";

    /// <returns>null for a legal Kafka topic name (whose dead-letter and checkpoint topics are legal too), else why not.</returns>
    public static string? Validate(string? topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            return "the topic name is empty";
        }

        if (topic is "." or ".." || topic.Length > 249 - "_stats".Length)
        {
            return $"'{topic}' is not a usable topic name (too long, or . or ..)";
        }

        return topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : $"'{topic}' is not a legal topic name: use letters, digits, '.', '_' and '-'";
    }
}

/// <summary>Headers of a dead-letter record; key and value stay the original bytes.</summary>
public static class DeadLetterHeaders
{
    public const string OriginalTopic = "dlq.original.topic";
    public const string OriginalPartition = "dlq.original.partition";
    public const string OriginalOffset = "dlq.original.offset";
    public const string OriginalTimestamp = "dlq.original.timestamp";
    public const string ConsumerGroup = "dlq.consumer.group";
    public const string Reason = "dlq.reason";
    public const string ErrorType = "dlq.error.type";
    public const string ErrorMessage = "dlq.error.message";
    public const string ErrorStackTrace = "dlq.error.stacktrace";
    public const string Attempts = "dlq.attempts";
    public const string FailedAt = "dlq.failed.at";

    /// <summary>
    /// Present only on a dead letter that had to be cut to fit the dead-letter topic: what was
    /// removed. The original record stays where <see cref="OriginalTopic"/>, <see cref="OriginalPartition"/>
    /// and <see cref="OriginalOffset"/> say, for as long as that topic's retention keeps it.
    /// </summary>
    public const string Truncated = "dlq.truncated";

    /// <summary>Longest stack trace kept, in characters: enough to locate a fault, bounded so a DLQ record stays small.</summary>
    public const int MaxStackTraceLength = 4096;

    public const string ReasonPoison = "poison";
    public const string ReasonInvalid = "invalid";
    public const string ReasonRetriesExhausted = "retries-exhausted";
}
