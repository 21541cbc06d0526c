using Orders.Processor.Aggregates;

namespace Orders.Processor.UnitTests;

public sealed class AggregationTests
{
    private static readonly long Noon = new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    [Fact]
    public void PriceStatistics_Combine_EqualsAddingEverythingToOne()
    {
        double[] left = [3.5, 10, 7.25];
        double[] right = [1, 99.99];

        var combined = left.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p)).Combine(right.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p)));
        var whole = left.Concat(right).Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p));

        Assert.Equal(whole, combined);
        Assert.Equal((5, 1.0, 99.99), (combined.Count, combined.Min, combined.Max));
        Assert.Equal(121.74m, combined.Sum);
    }

    [Fact]
    public void PriceStatistics_Empty_HasNoMean() => Assert.Null(PriceStatistics.Empty.Mean);

    [Fact]
    public void PriceStatistics_SumIsTheSameInEveryOrderAndGrouping()
    {
        // Doubles summed in different orders differ in the last bits; decimals of the same prices do not.
        var random = new Random(7);
        var prices = Enumerable.Range(0, 10_000).Select(_ => Math.Round(random.NextDouble() * 1000, 2)).ToArray();
        var forward = prices.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p));
        var backward = prices.Reverse().Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p));
        var chunked = prices.Chunk(333).Select(c => c.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p)))
            .Reverse().Aggregate(PriceStatistics.Empty, (s, c) => s.Combine(c));

        Assert.Equal(forward, backward);
        Assert.Equal(forward, chunked);
        Assert.Equal(prices.Sum(p => (decimal)p), forward.Sum);
    }

    [Fact]
    public void PartitionAggregate_CountsOverallPerProductAndPerMinute()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        aggregate.Add("mug", 10, Noon);
        aggregate.Add("mug", 20, Noon + 59_999);
        aggregate.Add("kettle", 30, Noon + 60_000);

        var data = aggregate.ToData();
        Assert.Equal((3, 60m), (data.Overall.Count, data.Overall.Sum));
        Assert.Equal((2, 15.0), (data.Products["mug"].Count, data.Products["mug"].Mean!.Value));
        Assert.Equal(2, data.Minutes[Noon].Count);
        Assert.Equal(1, data.Minutes[Noon + 60_000].Count);
    }

    [Fact]
    public void PartitionAggregate_KeepsOnlyTheNewestMinutes_AndCountsOlderOrdersAsLate()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 2);
        aggregate.Add("mug", 1, Noon);
        aggregate.Add("mug", 2, Noon + 60_000);
        aggregate.Add("mug", 3, Noon + 120_000);   // the noon minute falls out
        aggregate.Add("mug", 4, Noon + 30_000);    // too old for the window now

        var data = aggregate.ToData();
        Assert.Equal([Noon + 60_000, Noon + 120_000], data.Minutes.Keys.Order());
        Assert.Equal(1, data.LateOrders);
        Assert.Equal(4, data.Overall.Count);
    }

    [Fact]
    public void PartitionAggregate_RoundTripsThroughItsData()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        aggregate.Add("mug", 10.5, Noon);
        aggregate.AddDeadLetter("poison");
        aggregate.AddSkippedByRetention(3);

        var restored = PartitionAggregate.FromData(aggregate.ToData(), windowMinutes: 60);
        restored.Add("mug", 1.5, Noon);

        var data = restored.ToData();
        Assert.Equal((2, 12m), (data.Products["mug"].Count, data.Products["mug"].Sum));
        Assert.Equal(2, data.Minutes[Noon].Count);
        Assert.Equal(1, data.DeadLettered["poison"]);
        Assert.Equal(3, data.SkippedByRetention);
    }

    [Fact]
    public void Combine_SumsPartitions_AndTrimsMinutesToTheCombinedWindow()
    {
        var early = new PartitionAggregate(windowMinutes: 60);
        early.Add("mug", 10, Noon - (90 * 60_000));
        early.AddDeadLetter("invalid");
        var late = new PartitionAggregate(windowMinutes: 60);
        late.Add("mug", 20, Noon);
        late.Add("kettle", 30, Noon);
        late.AddDeadLetter("invalid");

        var combined = AggregateData.Combine([early.ToData(), late.ToData()], windowMinutes: 60);

        Assert.Equal((3, 60m), (combined.Overall.Count, combined.Overall.Sum));
        Assert.Equal(2, combined.Products["mug"].Count);
        Assert.Equal([Noon], combined.Minutes.Keys);
        Assert.Equal(2, combined.DeadLettered["invalid"]);
    }

    [Fact]
    public void EventTime_IsCreatedAt_OrTheRecordTimestampWhenUnknown()
    {
        var created = new DateTime(2026, 11, 25, 12, 0, 30, DateTimeKind.Utc);
        Assert.Equal(Noon + 30_000, EventTimeWindows.EventTimeMs(new Orders.Contracts.Order { CreatedAt = created }, recordTimestampMs: 5));
        Assert.Equal(5, EventTimeWindows.EventTimeMs(new Orders.Contracts.Order(), recordTimestampMs: 5));
        Assert.Equal(Noon, EventTimeWindows.MinuteOf(Noon + 59_999));
    }
}
