using Orders.Kafka;

namespace Orders.Kafka.UnitTests;

/// <summary>librdkafka's ApiVersions debug lines, as its feature debug context prints them (2.16.0).</summary>
public sealed class BrokerApisTests
{
    [Fact]
    public void Parse_ReadsTheFirstBrokersTable()
    {
        string[] lines =
        [
            "[thrd:localhost:9092/bootstrap]: localhost:9092/bootstrap: Broker API support:",
            "[thrd:localhost:9092/bootstrap]: localhost:9092/bootstrap:   ApiKey Produce (0) Versions 0..10",
            "[thrd:localhost:9092/bootstrap]: localhost:9092/bootstrap:   ApiKey JoinGroup (11) Versions 0..6",
            "[thrd:localhost:9092/bootstrap]: localhost:9092/bootstrap:   ApiKey ConsumerGroupHeartbeat (68) Versions 1..1",
            "[thrd:localhost:9093/2]: localhost:9093/2:   ApiKey Fetch (1) Versions 0..16",
        ];

        var apis = BrokerApis.Parse(lines)!;

        Assert.Equal("localhost:9092/bootstrap", apis.Broker);
        Assert.Equal(((short)1, (short)1), apis.Versions(BrokerApis.ConsumerGroupHeartbeat));
        Assert.True(apis.Offers(BrokerApis.JoinGroup));
        Assert.False(apis.Offers(1)); // another broker's line
    }

    [Fact]
    public void Parse_NoTable_IsNull()
    {
        Assert.Null(BrokerApis.Parse(["[thrd:app]: Configuration property debug is set"]));
    }
}
