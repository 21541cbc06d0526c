using Confluent.Kafka;
using Orders.Kafka;
using Orders.Processor.Hosting;

namespace Orders.Processor.UnitTests;

/// <summary>Which group protocol the processor uses against what the broker offers, and its settings for each.</summary>
public sealed class GroupProtocolChoiceTests
{
    private static readonly BrokerApis Kafka41 = new("localhost:9092/1", new Dictionary<short, (short, short)>
    {
        [BrokerApis.JoinGroup] = (0, 9),
        [BrokerApis.ConsumerGroupHeartbeat] = (0, 1),
    });

    private static readonly BrokerApis Kafka39 = new("localhost:9092/1", new Dictionary<short, (short, short)> { [BrokerApis.JoinGroup] = (0, 9) });

    [Fact]
    public void NotSet_ABrokerWithKip848_GetsTheConsumerProtocol_SayingWhy()
    {
        var choice = GroupProtocolChoice.Decide(new ConsumerConfig(), Kafka41);

        Assert.Equal(GroupProtocol.Consumer, choice.Protocol);
        Assert.Equal("the broker at localhost:9092/1 offers KIP-848 (ConsumerGroupHeartbeat v0-v1)", choice.Reason);
    }

    [Fact]
    public void NotSet_ABrokerWithoutKip848_GetsTheClassicProtocol_SayingWhy()
    {
        var choice = GroupProtocolChoice.Decide(new ConsumerConfig(), Kafka39);

        Assert.Equal(GroupProtocol.Classic, choice.Protocol);
        Assert.Contains("the broker at localhost:9092/1 does not offer KIP-848 (no ConsumerGroupHeartbeat", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void NotSet_ApiVersionsUnknown_GetsTheClassicProtocol_WhichEveryBrokerOffers()
    {
        var choice = GroupProtocolChoice.Decide(new ConsumerConfig(), apis: null);

        Assert.Equal(GroupProtocol.Classic, choice.Protocol);
        Assert.Contains("works on every broker", choice.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("session.timeout.ms", "6000")]
    [InlineData("heartbeat.interval.ms", "1000")]
    [InlineData("partition.assignment.strategy", "range")]
    public void NotSet_ASettingOnlyTheClassicProtocolTakes_ChoosesIt_EvenWhereKip848IsOffered(string name, string value)
    {
        var config = new ConsumerConfig();
        config.Set(name, value);

        var choice = GroupProtocolChoice.Decide(config, Kafka41);

        Assert.Equal(GroupProtocol.Classic, choice.Protocol);
        Assert.StartsWith($"Kafka:{name} is set", choice.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void SetToConsumer_ABrokerWithoutKip848_IsOneLineNamingTheSettingAndWhatTheBrokerLacks()
    {
        var config = new ConsumerConfig();
        config.Set("group.protocol", "consumer");

        var error = Assert.Throws<GroupProtocolException>(() => GroupProtocolChoice.Decide(config, Kafka39));

        Assert.StartsWith("Kafka:group.protocol is consumer (KIP-848), but the broker at localhost:9092/1 does not offer KIP-848", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void SetExplicitly_IsHonoured_WhereTheBrokerOffersIt()
    {
        var consumer = new ConsumerConfig();
        consumer.Set("group.protocol", "consumer");
        var classic = new ConsumerConfig();
        classic.Set("group.protocol", "classic");

        Assert.Equal(GroupProtocol.Consumer, GroupProtocolChoice.Decide(consumer, Kafka41).Protocol);
        Assert.Equal(GroupProtocol.Classic, GroupProtocolChoice.Decide(classic, Kafka41).Protocol);
        Assert.Equal(GroupProtocol.Classic, GroupProtocolChoice.Decide(classic, Kafka39).Protocol);
    }

    [Fact]
    public void RemoteAssignor_NeedsKip848_AndIsRefusedWhereTheBrokerLacksIt()
    {
        var config = new ConsumerConfig();
        config.Set("group.remote.assignor", "uniform");

        Assert.Equal(GroupProtocol.Consumer, GroupProtocolChoice.Decide(config, Kafka41).Protocol);
        Assert.Contains("group.remote.assignor", Assert.Throws<GroupProtocolException>(() => GroupProtocolChoice.Decide(config, Kafka39)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForProtocol_Classic_IsIncrementalWithAShortSession_Consumer_SetsNothingTheBrokerOwns()
    {
        var configured = new ConsumerConfig { BootstrapServers = "b:9092" };

        var classic = ProcessorClientConfig.ForProtocol(configured, GroupProtocol.Classic);
        var consumer = ProcessorClientConfig.ForProtocol(configured, GroupProtocol.Consumer);

        Assert.Equal("classic", classic.Get("group.protocol"));
        Assert.Equal("cooperative-sticky", classic.Get("partition.assignment.strategy"));
        Assert.Equal("10000", classic.Get("session.timeout.ms"));
        Assert.Equal("consumer", consumer.Get("group.protocol"));
        Assert.Null(consumer.Get("session.timeout.ms"));
        Assert.Null(consumer.Get("partition.assignment.strategy"));
    }

    [Theory]
    [InlineData(null, null, 1_000_000, null)]
    [InlineData(1_048_588, 1_048_588, 1_000_000, null)]
    [InlineData(200_000, null, 200_000, "200000")]
    [InlineData(200_000, 1_048_588, 200_000, "200000")]
    // Two 300 kB dead letters fit a 512,000-byte dead-letter topic one by one, not in one batch: batches stay below it.
    [InlineData(1_048_588, 512_000, 512_000, "512000")]
    [InlineData(null, 512_000, 512_000, "512000")]
    [InlineData(300_000, 512_000, 300_000, "300000")]
    public void ForStateTopics_CheckpointsStayWithinTheStatsTopicsLimit_BatchesWithinBothTopics(int? statsMax, int? deadLetterMax, int expectedLimit, string? expectedBatchSize)
    {
        var (config, limit) = ProcessorClientConfig.ForStateTopics(new ProducerConfig(), statsMax, deadLetterMax);

        Assert.Equal(expectedLimit, limit);
        Assert.Equal(expectedBatchSize, config.Get("batch.size"));
    }

    [Theory]
    [InlineData("compact", null, null, null)]
    [InlineData("delete", "-1", "-1", null)]
    [InlineData("delete", "604800000", "-1", "cleanup.policy=delete with retention.ms=604800000")]
    [InlineData("compact,delete", "-1", "5242880", "cleanup.policy=compact,delete with retention.bytes=5242880")]
    [InlineData("delete", "86400000", "1000", "cleanup.policy=delete with retention.ms=86400000 and retention.bytes=1000")]
    public void CanDeleteNewest_OnlyWhereRetentionAppliesWithoutCompaction(string policy, string? retentionMs, string? retentionBytes, string? expected)
    {
        var configs = new Dictionary<string, string> { ["cleanup.policy"] = policy };
        if (retentionMs is not null)
        {
            configs["retention.ms"] = retentionMs;
        }

        if (retentionBytes is not null)
        {
            configs["retention.bytes"] = retentionBytes;
        }

        Assert.Equal(expected, StateTopics.CanDeleteNewest(configs));
    }
}
