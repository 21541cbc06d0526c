using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;
using Orders.Processor;

namespace Orders.UnitTests;

public sealed class AggregationTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void PriceStatistics_Combine_EqualsAddingEverythingToOne()
    {
        double[] left = [3.5, 10, 7.25];
        double[] right = [1, 99.99];

        var combined = left.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p)).Combine(right.Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p)));
        var whole = left.Concat(right).Aggregate(PriceStatistics.Empty, (s, p) => s.Add(p));

        Assert.Equal(whole, combined);
        Assert.Equal((5, 1.0, 99.99), (combined.Count, combined.Min, combined.Max));
        Assert.Equal(left.Concat(right).Average(), combined.Mean!.Value, precision: 10);
    }

    [Fact]
    public void PriceStatistics_Empty_HasNoMean() => Assert.Null(PriceStatistics.Empty.Mean);

    [Fact]
    public void Aggregator_CombinesPartitionsAndProducts()
    {
        var aggregator = new OrderAggregator(_time);

        aggregator.Record(0, Order("kettle", 20));
        aggregator.Record(1, Order("kettle", 40));
        aggregator.Record(1, Order("mug", 6));
        var snapshot = aggregator.Snapshot();

        Assert.Equal(22, snapshot.Overall.Mean);
        Assert.Equal((2, 30.0), (snapshot.Products["kettle"].Count, snapshot.Products["kettle"].Mean!.Value));
        Assert.Equal((1, 6.0), (snapshot.Products["mug"].Count, snapshot.Products["mug"].Mean!.Value));
        Assert.Equal(1, snapshot.Partitions[0].Count);
        Assert.Equal(2, snapshot.Partitions[1].Count);
    }

    [Fact]
    public void Aggregator_LastMinute_ForgetsOrdersOlderThanSixtySeconds()
    {
        var aggregator = new OrderAggregator(_time);
        aggregator.Record(0, Order("kettle", 100));
        _time.Advance(TimeSpan.FromSeconds(30));
        aggregator.Record(0, Order("kettle", 50));

        Assert.Equal(2, aggregator.Snapshot().LastMinute.Count);

        _time.Advance(TimeSpan.FromSeconds(31));
        var snapshot = aggregator.Snapshot();

        Assert.Equal((1, 50.0), (snapshot.LastMinute.Count, snapshot.LastMinute.Mean!.Value));
        Assert.Equal(2, snapshot.Overall.Count);
    }

    [Fact]
    public void Aggregator_LastMinute_ReusesBucketsAfterAFullTurn()
    {
        var aggregator = new OrderAggregator(_time);
        aggregator.Record(0, Order("kettle", 100));
        _time.Advance(TimeSpan.FromSeconds(60));
        aggregator.Record(0, Order("kettle", 10));

        var snapshot = aggregator.Snapshot();

        Assert.Equal((1, 10.0), (snapshot.LastMinute.Count, snapshot.LastMinute.Sum));
    }

    private static Order Order(string product, double price) => new() { OrderId = Guid.NewGuid().ToString(), Product = product, Price = price };
}
