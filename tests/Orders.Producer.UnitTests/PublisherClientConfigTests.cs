using Confluent.Kafka;

namespace Orders.Producer.UnitTests;

public sealed class PublisherClientConfigTests
{
    [Fact]
    public void ThePublisher_NeverAsksABrokerToCreateATopic() =>
        Assert.Equal("false", PublisherClientConfig.Producer(new ProducerConfig { BootstrapServers = "broker:9092" }).Get("allow.auto.create.topics"));

    [Fact]
    public void AUserSetting_ForTopicCreation_Wins()
    {
        var configured = new ProducerConfig { BootstrapServers = "broker:9092" };
        configured.Set("allow.auto.create.topics", "true");

        Assert.Equal("true", PublisherClientConfig.Producer(configured).Get("allow.auto.create.topics"));
    }

    [Theory]
    [InlineData(null, null, null)]
    [InlineData(1_048_588, null, null)]
    [InlineData(1_000_000, null, null)]
    [InlineData(999_999, null, 999_999)]
    [InlineData(200_000, null, 200_000)]
    [InlineData(200_000, 100_000, null)]
    [InlineData(200_000, 500_000, null)]
    public void BatchSize_FitsATopicThatTakesSmallerBatchesThanTheClientMakes_UnlessTheUserSetOne(int? maxMessageBytes, int? configuredBatchSize, int? expected)
    {
        var config = PublisherClientConfig.Producer(new ProducerConfig { BootstrapServers = "broker:9092", BatchSize = configuredBatchSize });

        Assert.Equal(expected, PublisherClientConfig.BatchSizeFor(config, maxMessageBytes));
    }
}
