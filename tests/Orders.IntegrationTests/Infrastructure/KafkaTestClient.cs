using Confluent.Kafka;

namespace Orders.IntegrationTests.Infrastructure;

internal static class KafkaTestClient
{
    /// <summary>Reads until <paramref name="expected"/> records arrived or the deadline passed.</summary>
    public static List<ConsumeResult<TKey, TValue>> ConsumeAll<TKey, TValue>(IConsumer<TKey, TValue> consumer, int expected, TimeSpan timeout)
    {
        var results = new List<ConsumeResult<TKey, TValue>>();
        var deadline = DateTime.UtcNow + timeout;
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is { IsPartitionEOF: false, Message: not null })
            {
                results.Add(result);
            }
        }

        return results;
    }
}
