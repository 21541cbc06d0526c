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
}
