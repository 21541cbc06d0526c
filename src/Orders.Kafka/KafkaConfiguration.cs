using Confluent.Kafka;

namespace Orders.Kafka;

/// <summary>A client setting librdkafka rejects (unknown property, bad value): bad input, not a crash.</summary>
public sealed class KafkaConfigurationException(string message, Exception inner) : Exception(message, inner);

public static class KafkaClientBuilding
{
    /// <summary>Sets a property unless configuration already did; reads it as text, so a bad value is left for Build to report.</summary>
    public static void SetDefault(this ClientConfig config, string key, string value)
    {
        if (config.Get(key) is null)
        {
            config.Set(key, value);
        }
    }

    public static IProducer<TKey, TValue> BuildChecked<TKey, TValue>(this ProducerBuilder<TKey, TValue> builder) =>
        Checked(builder.Build);

    public static IConsumer<TKey, TValue> BuildChecked<TKey, TValue>(this ConsumerBuilder<TKey, TValue> builder) =>
        Checked(builder.Build);

    private static T Checked<T>(Func<T> build)
    {
        try
        {
            return build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // How Confluent.Kafka reports what librdkafka rejects: an invalid value (ArgumentException)
            // or an unknown property (InvalidOperationException).
            throw new KafkaConfigurationException($"invalid Kafka configuration: {e.Message}", e);
        }
    }
}
