using System.Globalization;
using System.Text;
using Orders.Contracts;

namespace Orders.DeadLetters.UnitTests;

/// <summary>Dead letters as the processor writes them (docs/DEAD-LETTERS.md), built by hand.</summary>
internal static class Letters
{
    public static readonly DateTimeOffset FailedAt = new(2026, 11, 25, 10, 11, 12, 345, TimeSpan.Zero);

    public static DeadLetter Make(
        int partition,
        long offset,
        string originalTopic = "orders",
        int originalPartition = 0,
        long originalOffset = 0,
        string reason = DeadLetterHeaders.ReasonRetriesExhausted,
        DateTimeOffset? failedAt = null,
        IEnumerable<RecordHeader>? extra = null) =>
        DeadLetter.From(
            new RecordPosition("orders_dlq", partition, offset),
            (failedAt ?? FailedAt).AddMilliseconds(1),
            Encoding.UTF8.GetBytes($"key-{originalOffset}"),
            [0, 0, 0, 0, 1, 2],
            [
                .. extra ?? [],
                Text(DeadLetterHeaders.OriginalTopic, originalTopic),
                Text(DeadLetterHeaders.OriginalPartition, originalPartition.ToString(CultureInfo.InvariantCulture)),
                Text(DeadLetterHeaders.OriginalOffset, originalOffset.ToString(CultureInfo.InvariantCulture)),
                Text(DeadLetterHeaders.OriginalTimestamp, "1700000000123"),
                Text(DeadLetterHeaders.ConsumerGroup, "order-processor"),
                Text(DeadLetterHeaders.Reason, reason),
                Text(DeadLetterHeaders.ErrorType, "Orders.Processor.SimulatedTransientException"),
                Text(DeadLetterHeaders.ErrorMessage, "simulated transient failure"),
                Text(DeadLetterHeaders.ErrorStackTrace, "at Somewhere()\n at SomewhereElse()"),
                Text(DeadLetterHeaders.Attempts, "3"),
                Text(DeadLetterHeaders.FailedAt, (failedAt ?? FailedAt).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            ]);

    public static RecordHeader Text(string key, string value) => new(key, Encoding.UTF8.GetBytes(value));
}
