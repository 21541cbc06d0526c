using System.Globalization;
using Orders.Processor.Observability;

namespace Orders.Processor.UnitTests.Observability;

public sealed class ConsumerStatisticsTests
{
    private static string RealDocument() => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Observability", "librdkafka-statistics.json"));

    [Fact]
    public void Update_RealDocument_ReadsEveryPartitionOfTheTopic_ButNotTheInternalOne()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);

        Assert.True(statistics.Update(RealDocument()));

        Assert.Equal([0, 1, 2, 3, 4, 5], statistics.Partitions.Keys.Order());
        Assert.Equal(new PartitionOffsets(346, 346, -1001), statistics.Partitions[0]);
        Assert.Equal(new PartitionOffsets(343, 343, -1001), statistics.Partitions[1]);
    }

    [Fact]
    public void Update_RealDocument_CountsTheConnectedBroker_NotTheLogicalCoordinator()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);

        statistics.Update(RealDocument());

        Assert.Equal(1, statistics.BrokersUp);
        Assert.Null(statistics.DisconnectedFor);
    }

    [Fact]
    public void DisconnectedFor_CountsFromTheLastStatisticsWithABrokerUp_AndIsUnknownWithoutBrokers()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var statistics = new ConsumerStatistics("orders", readCommitted: true, time);
        statistics.Update("""{"topics":{}}""");
        Assert.Null(statistics.BrokersUp);

        statistics.Update("""{"brokers":{"h:1/1":{"nodeid":1,"state":"UP"},"h:1/2":{"nodeid":2,"state":"DOWN"}}}""");
        time.Advance(TimeSpan.FromSeconds(3));
        statistics.Update("""{"brokers":{"h:1/1":{"nodeid":1,"state":"CONNECT"},"h:1/2":{"nodeid":2,"state":"DOWN"}}}""");
        time.Advance(TimeSpan.FromSeconds(4));

        Assert.Equal(0, statistics.BrokersUp);
        Assert.Equal(TimeSpan.FromSeconds(7), statistics.DisconnectedFor);
    }

    [Theory]
    [InlineData(3, 10_000_000, 0)]
    [InlineData(3, 60_000_000, 0)]
    [InlineData(3, 9_999_999, 1)]
    [InlineData(0, 60_000_000, 1)]
    [InlineData(3, -1, 1)]
    public void ABrokerUpThatHasNotAnsweredItsRequestsFor10s_IsNotCountedAsConnected_OneAskedNothingMayBeIdle(long waiting, long rxidleMicros, int expected)
    {
        // A broker that hangs keeps its connection UP until librdkafka's socket.timeout.ms (60 s): readiness said "connected" for ~70 s.
        var statistics = new ConsumerStatistics("orders", readCommitted: true);

        var broker = string.Create(CultureInfo.InvariantCulture, $"\"nodeid\":1,\"state\":\"UP\",\"waitresp_cnt\":{waiting},\"rxidle\":{rxidleMicros}");
        statistics.Update("{\"brokers\":{\"h:1/1\":{" + broker + "}}}");

        Assert.Equal(expected, statistics.BrokersUp);
    }

    [Fact]
    public void LagOf_IsTheEndOffsetMinusTheNextOffsetToProcess()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);
        statistics.Update(RealDocument());

        Assert.Equal(46, statistics.LagOf(0, nextOffset: 300));
        Assert.Equal(0, statistics.LagOf(1, nextOffset: 343));
    }

    [Fact]
    public void LagOf_StateAheadOfOlderStatistics_IsZeroNotNegative()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);
        statistics.Update(RealDocument());

        Assert.Equal(0, statistics.LagOf(0, nextOffset: 350));
    }

    [Fact]
    public void LagOf_PartitionWhoseEndIsUnknown_IsNull()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);
        statistics.Update(RealDocument());

        // Not fetched by this consumer: librdkafka reports -1001 (unknown).
        Assert.Null(statistics.LagOf(2, nextOffset: 0));
        Assert.Null(statistics.LagOf(42, nextOffset: 0));
    }

    [Theory]
    [InlineData(true, 8)]
    [InlineData(false, 10)]
    public void LagOf_ReadCommitted_CountsToTheLastStableOffset_OtherwiseToTheHighWatermark(bool readCommitted, long expected)
    {
        var statistics = new ConsumerStatistics("t", readCommitted);
        statistics.Update("""{"topics":{"t":{"partitions":{"0":{"hi_offset":20,"ls_offset":18}}}}}""");

        Assert.Equal(expected, statistics.LagOf(0, nextOffset: 10));
    }

    [Fact]
    public void Update_SkipsOtherTopicsAndFields_WhateverTheirShape()
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);
        var json = """
            {"name":"c","brokers":{"b":{"rtt":{"p99":1}}},"topics":{
              "orders_dlq":{"partitions":{"0":{"hi_offset":999}}},
              "orders":{"batchsize":{"hdrsize":14},"partitions":{"0":{"fetch_state":"active","hi_offset":7,"ls_offset":7,"committed_offset":3,"lists":[1,[2]]}}},
              "other":[1,2,{"x":null}]},
             "cgrp":{"state":"up"}}
            """;

        Assert.True(statistics.Update(json));

        Assert.Equal(new PartitionOffsets(7, 7, 3), Assert.Single(statistics.Partitions).Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"topics":{"orders":{"partitions":{"0":{"hi_offset":"many"}}}}}""")]
    [InlineData("""{"topics":{"orders":{"partitions":{"0":{"hi_offset":1""")]
    public void Update_UnreadableDocument_ChangesNothing(string json)
    {
        var statistics = new ConsumerStatistics("orders", readCommitted: true);
        statistics.Update(RealDocument());

        Assert.False(statistics.Update(json));

        Assert.Equal(346, statistics.Partitions[0].High);
    }

    [Fact]
    public void Update_TopicNameWithEscapes_IsStillFound()
    {
        var statistics = new ConsumerStatistics("a.b-c_d", readCommitted: true);

        statistics.Update("""{"topics":{"a.b\u002dc_d":{"partitions":{"3":{"hi_offset":5}}}}}""");

        Assert.Equal(5, statistics.Partitions[3].High);
    }
}
