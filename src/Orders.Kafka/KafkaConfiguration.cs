using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Orders.Kafka;

/// <summary>A client setting librdkafka rejects (unknown property, bad value): bad input, not a crash.</summary>
public sealed class KafkaConfigurationException(string message, Exception? inner) : Exception(message, inner);

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

    public static IAdminClient BuildChecked(this AdminClientBuilder builder) =>
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

/// <summary>Binds the <c>Kafka</c> configuration section into client configs, so any librdkafka property works.</summary>
public static class KafkaSettings
{
    public const string Section = "Kafka";

    /// <summary>
    /// Copies every setting of <paramref name="section"/> into <paramref name="config"/>: librdkafka's
    /// own names (<c>linger.ms</c>) pass through; .NET names (<c>BootstrapServers</c>) map to them.
    /// </summary>
    public static T Bind<T>(IConfiguration section, T config)
        where T : ClientConfig
    {
        foreach (var setting in section.AsEnumerable(makePathsRelative: true))
        {
            if (setting.Value is null)
            {
                continue;
            }

            config.Set(LibrdkafkaName(setting.Key), setting.Value);
        }

        return config;
    }

    /// <summary>librdkafka's name for a setting: a dotted name as it is, a .NET name (<c>BootstrapServers</c>) dotted (<c>bootstrap.servers</c>).</summary>
    public static string LibrdkafkaName(string key) => key.Contains('.', StringComparison.Ordinal) ? key : ToLibrdkafkaName(key);

    private static string ToLibrdkafkaName(string pascal) =>
        string.Concat(pascal.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "." : "") + char.ToLowerInvariant(c) : c.ToString()));
}
