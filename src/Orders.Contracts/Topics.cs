namespace Orders.Contracts;

/// <summary>Topic names of the system (DESIGN.md, "Topics and records").</summary>
public static class Topics
{
    public const string Orders = "orders";
    public const string DeadLetter = "orders_dlq";

    /// <summary>The dead-letter topic of a source topic: <c>orders</c> has <c>orders_dlq</c>, any other <c>{topic}_dlq</c>.</summary>
    public static string DeadLetterFor(string topic) => topic == Orders ? DeadLetter : $"{topic}_dlq";
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

    /// <summary>Longest stack trace kept, in characters: enough to locate a fault, bounded so a DLQ record stays small.</summary>
    public const int MaxStackTraceLength = 4096;

    public const string ReasonPoison = "poison";
    public const string ReasonInvalid = "invalid";
    public const string ReasonRetriesExhausted = "retries-exhausted";
}
