using Confluent.Kafka;
using Microsoft.Extensions.Configuration;

namespace Orders.Kafka.UnitTests;

/// <summary>The one Kafka section every client binds: each kind of client gets the properties that are for it.</summary>
public sealed class KafkaSettingsTests
{
    // What a user sets once for all: a consumer's group settings, a producer's batching, and what both use.
    private static readonly Dictionary<string, string?> Shared = new()
    {
        ["Kafka:session.timeout.ms"] = "12000",
        ["Kafka:group.protocol"] = "classic",
        ["Kafka:MaxPollIntervalMs"] = "400000",
        ["Kafka:linger.ms"] = "20",
        ["Kafka:message.timeout.ms"] = "60000",
        ["Kafka:SecurityProtocol"] = "Plaintext",
        ["Kafka:client.id"] = "orders-test",
        ["Kafka:BootstrapServers"] = "127.0.0.1:1",
        ["Kafka:dotnet.consumer.consume.result.fields"] = "headers",
    };

    private static IConfigurationSection Section() => new ConfigurationBuilder().AddInMemoryCollection(Shared).Build().GetSection(KafkaSettings.Section);

    [Fact]
    public void EachKindOfClient_GetsItsOwnPropertiesAndTheCommonOnes()
    {
        var producer = KafkaSettings.Bind(Section(), new ProducerConfig());
        var consumer = KafkaSettings.Bind(Section(), new ConsumerConfig());
        var admin = KafkaSettings.Bind(Section(), new AdminClientConfig());
        var all = KafkaSettings.Bind(Section(), new ClientConfig());

        Assert.Equal(["bootstrap.servers", "client.id", "linger.ms", "message.timeout.ms", "security.protocol"], Keys(producer));
        Assert.Equal(["bootstrap.servers", "client.id", "dotnet.consumer.consume.result.fields", "group.protocol", "max.poll.interval.ms", "security.protocol", "session.timeout.ms"], Keys(consumer));
        Assert.Equal(["bootstrap.servers", "client.id", "linger.ms", "message.timeout.ms", "security.protocol"], Keys(admin));
        Assert.Equal(Shared.Count, all.Count());
    }

    [Fact]
    public void BoundClients_LogNoConfigurationWarning_WhereTheWholeSectionWould()
    {
        List<string> Warnings(Action<Action<LogMessage>> build)
        {
            var lines = new List<string>();
            build(m =>
            {
                if (m.Facility == "CONFWARN")
                {
                    lock (lines)
                    {
                        lines.Add(m.Message);
                    }
                }
            });
            return lines;
        }

        // Nothing listens at the bootstrap address: the clients check their settings and are gone before any retry matters.
        var producer = Warnings(log =>
        {
            using var _ = new ProducerBuilder<Null, Null>(KafkaSettings.Bind(Section(), new ProducerConfig())).SetLogHandler((_, m) => log(m)).Build();
        });
        var consumer = Warnings(log =>
        {
            using var c = new ConsumerBuilder<Null, Null>(KafkaSettings.Bind(Section(), new ConsumerConfig { GroupId = "g" })).SetLogHandler((_, m) => log(m)).Build();
            c.Close();
        });
        var unfiltered = Warnings(log =>
        {
            var whole = KafkaSettings.Bind(Section(), new ClientConfig()).Where(p => !p.Key.StartsWith("dotnet.", StringComparison.Ordinal));
            using var _ = new ProducerBuilder<Null, Null>(whole).SetLogHandler((_, m) => log(m)).Build();
        });

        Assert.Empty(producer);
        Assert.Empty(consumer);
        Assert.Contains(unfiltered, line => line.Contains("session.timeout.ms is a consumer property", StringComparison.Ordinal));
    }

    private static List<string> Keys(IEnumerable<KeyValuePair<string, string>> config) => [.. config.Select(p => p.Key).Order(StringComparer.Ordinal)];
}
