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
        Assert.Equal((5, 1.0m, 99.99m), (combined.Count, combined.Min, combined.Max));
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
    public void PartitionAggregate_CountsPerCurrency_OverallPerProductAndPerMinute()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        aggregate.Add("EUR", "mug", 10, 1, Noon);
        aggregate.Add("EUR", "mug", 20, 3, Noon + 59_999);
        aggregate.Add("EUR", "kettle", 30, 2, Noon + 60_000);
        aggregate.Add("USD", "mug", 100, 1, Noon);

        var data = aggregate.ToData();
        var eur = data.Currencies["EUR"];
        Assert.Equal((3, 60m), (eur.Overall.Count, eur.Overall.Price.Sum));
        Assert.Equal(130m, eur.Overall.Value.Sum);
        Assert.Equal((2, 15.0), (eur.Products["mug"].Count, eur.Products["mug"].Price.Mean!.Value));
        Assert.Equal(35.0, eur.Products["mug"].Value.Mean);
        Assert.Equal(2, eur.Minutes[Noon].Count);
        Assert.Equal(1, eur.Minutes[Noon + 60_000].Count);
        Assert.Equal((1, 100m), (data.Currencies["USD"].Overall.Count, data.Currencies["USD"].Overall.Price.Sum));
        Assert.Equal(4, data.Count);
    }

    [Fact]
    public void OrderValue_IsPriceTimesQuantity_ExactlyAsDecimals()
    {
        var measures = OrderMeasures.Empty.Add(PriceStatistics.ToAmount(0.1), 3).Add(PriceStatistics.ToAmount(19.99), 7);

        Assert.Equal(20.09m, measures.Price.Sum);
        Assert.Equal(140.23m, measures.Value.Sum);
        // Exact: not the doubles 0.30000000000000004 and 139.92999999999998.
        Assert.Equal((0.3m, 139.93m), (measures.Value.Min, measures.Value.Max));
    }

    [Fact]
    public void PartitionAggregate_KeepsOnlyTheNewestMinutes_AndCountsOlderOrdersAsLate()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 2);
        aggregate.Add("EUR", "mug", 1, 1, Noon);
        aggregate.Add("USD", "mug", 2, 1, Noon + 60_000);
        aggregate.Add("EUR", "mug", 3, 1, Noon + 120_000);   // the noon minute falls out, in every currency
        aggregate.Add("EUR", "mug", 4, 1, Noon + 30_000);    // too old for the window now

        var data = aggregate.ToData();
        Assert.Equal([Noon + 120_000], data.Currencies["EUR"].Minutes.Keys.Order());
        Assert.Equal([Noon + 60_000], data.Currencies["USD"].Minutes.Keys);
        Assert.Equal(1, data.LateOrders);
        Assert.Equal(3, data.Currencies["EUR"].Overall.Count);
    }

    [Fact]
    public void PartitionAggregate_Figures_MatchARecount_ForMinutesInAnyOrder_CurrenciesOfAnyInstance_AndARestoreHalfway()
    {
        const int window = 3;
        var random = new Random(11);
        string[] codes = ["EUR", "USD", "GBP"];
        var aggregate = new PartitionAggregate(window);
        var kept = new List<(string Currency, long Minute, decimal Price, int Quantity)>();
        var (newest, late) = (long.MinValue, 0);
        for (var i = 0; i < 4_000; i++)
        {
            // Minutes mostly move forward, some orders come back a few minutes (some too far: late);
            // a currency is sometimes a fresh string instance, not the one seen before.
            var minute = Noon + ((i / 200) + (random.Next(10) == 0 ? -random.Next(6) : 0)) * EventTimeWindows.MinuteMs;
            var code = codes[random.Next(codes.Length)];
            var currency = random.Next(4) == 0 ? new string(code.AsSpan()) : code;
            var price = Math.Round(random.NextDouble() * 100, 2) + 0.01;
            var quantity = random.Next(1, 5);
            aggregate.Add(currency, "mug", price, quantity, minute + random.Next(60_000));

            newest = Math.Max(newest, minute);
            if (minute < newest - ((window - 1) * EventTimeWindows.MinuteMs))
            {
                late++;
            }
            else
            {
                kept.Add((code, minute, PriceStatistics.ToAmount(price), quantity));
            }

            if (i == 2_000)
            {
                aggregate = PartitionAggregate.FromData(aggregate.ToData(), window);
            }
        }

        var data = aggregate.ToData();
        var oldestKept = newest - ((window - 1) * EventTimeWindows.MinuteMs);
        foreach (var code in codes)
        {
            var expected = kept.Where(o => o.Currency == code && o.Minute >= oldestKept)
                .GroupBy(o => o.Minute)
                .ToDictionary(g => g.Key, g => g.Aggregate(OrderMeasures.Empty, (m, o) => m.Add(o.Price, o.Quantity)));
            Assert.Equal(expected.OrderBy(m => m.Key), data.Currencies[code].Minutes.OrderBy(m => m.Key));
        }

        Assert.Equal(late, data.LateOrders);
        Assert.Equal(4_000, codes.Sum(c => data.Currencies[c].Overall.Count));
        Assert.True(late > 0 && kept.Count(o => o.Minute < newest) > 0, "the stream has late orders and orders of older minutes");
    }

    [Fact]
    public void PartitionAggregate_RoundTripsThroughItsData()
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        aggregate.Add("GBP", "mug", 10.5, 2, Noon);
        aggregate.AddDeadLetter("poison");
        aggregate.AddSkippedByRetention(3);

        var restored = PartitionAggregate.FromData(aggregate.ToData(), windowMinutes: 60);
        restored.Add("GBP", "mug", 1.5, 1, Noon);

        var data = restored.ToData();
        var mug = data.Currencies["GBP"].Products["mug"];
        Assert.Equal((2, 12m, 22.5m), (mug.Count, mug.Price.Sum, mug.Value.Sum));
        Assert.Equal(2, data.Currencies["GBP"].Minutes[Noon].Count);
        Assert.Equal(1, data.DeadLettered["poison"]);
        Assert.Equal(3, data.SkippedByRetention);
        Assert.Equal(2, data.Count);
    }

    [Fact]
    public void Combine_SumsPartitionsCurrencyByCurrency_AndTrimsMinutesToTheCombinedWindow()
    {
        var early = new PartitionAggregate(windowMinutes: 60);
        early.Add("EUR", "mug", 10, 1, Noon - (90 * 60_000));
        early.AddDeadLetter("invalid");
        var late = new PartitionAggregate(windowMinutes: 60);
        late.Add("EUR", "mug", 20, 1, Noon);
        late.Add("JPY", "kettle", 3000, 1, Noon);
        late.AddDeadLetter("invalid");

        var combined = AggregateData.Combine([early.ToData(), late.ToData()], windowMinutes: 60);

        Assert.Equal((2, 30m), (combined.Currencies["EUR"].Overall.Count, combined.Currencies["EUR"].Overall.Price.Sum));
        Assert.Equal(3000m, combined.Currencies["JPY"].Overall.Price.Sum);
        Assert.Equal([Noon], combined.Currencies["EUR"].Minutes.Keys);
        Assert.Equal(2, combined.DeadLettered["invalid"]);
        Assert.Equal(3, combined.Count);
    }

    [Fact]
    public void Combine_KeepsWhatCheckpointsBeforeCurrenciesCounted_Apart()
    {
        var old = AggregateData.Empty with { Unsplit = new CurrencyData(new OrderMeasures(new PriceStatistics(2, 30m, 10m, 20m), PriceStatistics.Empty), new Dictionary<string, OrderMeasures>(), new Dictionary<long, OrderMeasures>()) };
        var now = new PartitionAggregate(windowMinutes: 60);
        now.Add("EUR", "mug", 5, 1, Noon);

        var combined = AggregateData.Combine([old, now.ToData(), old], windowMinutes: 60);

        Assert.Equal((4, 60m), (combined.Unsplit!.Overall.Count, combined.Unsplit.Overall.Price.Sum));
        Assert.Equal((1, 5m), (combined.Currencies["EUR"].Overall.Count, combined.Currencies["EUR"].Overall.Price.Sum));
        Assert.Equal(5, combined.Count);
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
