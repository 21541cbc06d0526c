using Orders.Processor.Aggregates;

namespace Orders.Processor.UnitTests;

/// <summary>
/// <see cref="PriceAccumulator.Add(in Amount)"/> skips the decimal comparisons when a double shows the
/// amount inside the bounds, and sums whole cents as a long: these check that it gives, to the bit,
/// what decimal arithmetic gives (<see cref="Reference"/>), on the inputs where a double could
/// mislead (prices one ulp apart, doubles that round to the same decimal, long runs of one price),
/// where scales differ (6.25 x 2 = 12.50 against 12.5 x 1 = 12.5), where the cents outgrow a long,
/// and where amounts that are not whole cents arrive among those that are.
/// </summary>
public sealed class PriceStatisticsTests
{
    public static TheoryData<string> Streams =>
        ["cents", "one-ulp-apart", "fifteen-digits", "repeated", "scales", "rounds-across-down", "rounds-across-up", "mixed", "beyond-a-long", "some-not-cents"];

    [Theory]
    [MemberData(nameof(Streams))]
    public void Adding_AsTheAggregateDoes_GivesTheBitsOfDecimalArithmetic(string stream)
    {
        var orders = Orders(stream, new Random(20261205));
        var fast = MeasuresAccumulator.Empty;
        var exact = (Price: Reference.Empty, Value: Reference.Empty);

        foreach (var (price, quantity) in orders)
        {
            var amount = Amount.Of(price);
            fast.Add(amount, amount.Times(quantity));
            exact = (exact.Price.Add((decimal)price), exact.Value.Add((decimal)price * quantity));

            AssertSameBits(exact.Price, fast.Price.ToStatistics());
            AssertSameBits(exact.Value, fast.Value.ToStatistics());
        }
    }

    [Theory]
    [MemberData(nameof(Streams))]
    public void Adding_Decimals_WithTheDouble_GivesTheBitsOfDecimalArithmetic(string stream)
    {
        var orders = Orders(stream, new Random(20261205));
        var fast = (Price: PriceStatistics.Empty, Value: PriceStatistics.Empty);
        var exact = (Price: Reference.Empty, Value: Reference.Empty);

        foreach (var (price, quantity) in orders)
        {
            var amount = PriceStatistics.ToAmount(price);
            var value = amount * quantity;
            fast = (fast.Price.Add(Amount.Of(amount, price)), fast.Value.Add(Amount.Of(value, price * quantity)));
            exact = (exact.Price.Add(amount), exact.Value.Add(value));

            AssertSameBits(exact.Price, fast.Price);
            AssertSameBits(exact.Value, fast.Value);
        }
    }

    [Theory]
    [InlineData("0")]
    [InlineData("0.00")]
    [InlineData("12.5")]
    [InlineData("12.50")]
    [InlineData("1200")]
    [InlineData("12.345")]
    [InlineData("-5.25")]
    [InlineData("89999999999999999.99")]
    [InlineData("90000000000000000")]
    [InlineData("123456789012345678901234.5")]
    public void Adding_ToARestoredSum_GivesTheBitsOfDecimalArithmetic(string restored)
    {
        var sum = decimal.Parse(restored, System.Globalization.CultureInfo.InvariantCulture);
        var stats = PriceAccumulator.From(new PriceStatistics(3, sum, 1m, 100m));
        var exact = new Reference(3, sum, 1m, 100m);
        AssertSameBits(exact, stats.ToStatistics());

        foreach (var price in new[] { 0.5, 12.25, 7.0, 3.125, 99.99, 1e-3, 0.1 })
        {
            stats.Add(Amount.Of(price));
            exact = exact.Add((decimal)price);
            AssertSameBits(exact, stats.ToStatistics());
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-3)]
    [InlineData(int.MaxValue)]
    public void Times_AQuantityCentsDoNotHold_IsTheDecimalProduct(int quantity)
    {
        var amount = Amount.Of(999_999_999_999.99);
        var value = amount.Times(quantity);

        Assert.Equal(decimal.GetBits(999_999_999_999.99m * quantity), decimal.GetBits(value.Exact));
        Assert.False(value.IsCents);
    }

    [Fact]
    public void Adding_AnEqualValueOfAnotherScale_KeepsWhatTheDecimalComparisonsKeep()
    {
        // 12.50 and 12.5 are equal; which one the minimum and maximum show is Math.Min's and Math.Max's rule.
        var byFast = PriceStatistics.Empty.Add(Amount.Of(6.25m * 2, 12.5)).Add(Amount.Of(12.5m * 1, 12.5)).Add(Amount.Of(3.125m * 4, 12.5));
        var byDecimals = Reference.Empty.Add(6.25m * 2).Add(12.5m * 1).Add(3.125m * 4);

        AssertSameBits(byDecimals, byFast);
    }

    [Theory]
    [InlineData("12.50")]
    [InlineData("12.5")]
    [InlineData("12.500")]
    public void Adding_ABoundsValueAgainAndAgain_InEveryScale_KeepsWhatTheDecimalComparisonsKeep(string restored)
    {
        // A bound restored from a checkpoint, then met by equal values of every scale, each more than once:
        // a recurring amount skips the comparisons only where its bits are the bound's.
        var bound = decimal.Parse(restored, System.Globalization.CultureInfo.InvariantCulture);
        var stats = PriceAccumulator.From(new PriceStatistics(1, bound, bound, bound));
        var exact = new Reference(1, bound, bound, bound);

        foreach (var value in new[] { 12.5m, 12.5m, 12.50m, 12.50m, 12.5m, 12.500m, 12.500m, 12.5m })
        {
            stats.Add(Amount.Of(value, 12.5));
            exact = exact.Add(value);
            AssertSameBits(exact, stats.ToStatistics());
        }
    }

    [Fact]
    public void Adding_WithoutTheDouble_AndCombining_AreUnchanged()
    {
        var stats = PriceStatistics.Empty.Add(10.5m).Add(250.25m).Combine(PriceStatistics.Empty.Add(3.75m));

        Assert.Equal(new PriceStatistics(3, 264.50m, 3.75m, 250.25m), stats);
        Assert.Equal("264.50", stats.Sum.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Equality_IsOfTheFourFigures()
    {
        // Two routes to the same figures (one through cents, one not) are equal.
        var added = PriceStatistics.Empty.Add(Amount.Of(19.99m, 19.99)).Add(Amount.Of(5m, 5.0));
        var built = new PriceStatistics(2, 24.99m, 5m, 19.99m);

        Assert.Equal(built, added);
        Assert.Equal(built.GetHashCode(), added.GetHashCode());
    }

    [Fact]
    public void ToAmount_OfEveryCentUpToTenThousand_IsTheRuntimesConversionToTheBit()
    {
        for (var cents = 1; cents <= 1_000_000; cents++)
        {
            AssertConvertsAsTheRuntime(cents / 100.0);
        }
    }

    [Fact]
    public void ToAmount_OfOtherPrices_IsTheRuntimesConversionToTheBit()
    {
        var random = new Random(20261205);
        List<double> prices =
        [
            0, -0.0, 0.01, 0.009999999999999, 0.001, 0.005, 0.015, 0.1, 0.3, 1, 10, 100, 1e11, 999_999_999_999.99, 1e12 - 0.01, 1e12, 1e12 + 0.01,
            1e13, 1e15, 1e20, 1e-5, 1e-10, double.Epsilon, -19.99, -1e12, 123.456, 123.455, 0.125, 2.675, 1.005, 1e12 * (1 - 1e-16),
        ];
        for (var i = 0; i < 200_000; i++)
        {
            var cents = Math.Round(random.NextDouble() * Math.Pow(10, random.Next(1, 15)));
            var price = cents / 100;
            // Whole cents of 16 and 17 digits, where the runtime's 15 significant digits round them away.
            var large = Math.Round(random.NextDouble() * Math.Pow(10, random.Next(15, 18))) / 100;
            prices.AddRange([price, Math.BitIncrement(price), Math.BitDecrement(price), random.NextDouble() * 1000, random.NextDouble() * 1e13, large]);
        }

        foreach (var price in prices)
        {
            AssertConvertsAsTheRuntime(price);
        }
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(1e30)]
    public void ToAmount_OfWhatNoDecimalHolds_FailsAsTheRuntimesConversion(double price)
    {
        Assert.Throws<OverflowException>(() => (decimal)price);
        Assert.Throws<OverflowException>(() => PriceStatistics.ToAmount(price));
    }

    private static void AssertConvertsAsTheRuntime(double price)
    {
        Span<int> expected = stackalloc int[4];
        Span<int> actual = stackalloc int[4];
        decimal.GetBits((decimal)price, expected);
        decimal.GetBits(PriceStatistics.ToAmount(price), actual);
        if (!expected.SequenceEqual(actual))
        {
            Assert.Fail($"ToAmount({price:R}) = {PriceStatistics.ToAmount(price)} [{string.Join(", ", actual.ToArray())}], the runtime's {(decimal)price} [{string.Join(", ", expected.ToArray())}]");
        }
    }

    private static void AssertSameBits(Reference expected, PriceStatistics actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(decimal.GetBits(expected.Sum), decimal.GetBits(actual.Sum));
        Assert.Equal(decimal.GetBits(expected.Min), decimal.GetBits(actual.Min));
        Assert.Equal(decimal.GetBits(expected.Max), decimal.GetBits(actual.Max));
    }

    private static List<(double Price, int Quantity)> Orders(string stream, Random random)
    {
        if (stream.StartsWith("rounds-across", StringComparison.Ordinal))
        {
            return RoundingAcross(random, down: stream.EndsWith("down", StringComparison.Ordinal));
        }

        var orders = new List<(double, int)>();
        var previous = 50.0;
        for (var i = 0; i < 20_000; i++)
        {
            var price = stream switch
            {
                "cents" => Math.Round(random.NextDouble() * 1000, 2) + 0.01,
                // Walks by single ulps around a price, across its current minimum and maximum.
                "one-ulp-apart" => previous = random.Next(3) switch { 0 => Math.BitIncrement(previous), 1 => Math.BitDecrement(previous), _ => previous },
                // More digits than a decimal keeps from a double: neighbouring doubles become the same amount.
                "fifteen-digits" => 100 + (random.NextDouble() * 1e-12),
                "repeated" => i % 1000 == 0 ? 42.42 + (i / 1000) : 42.42,
                "scales" => new[] { 6.25, 12.5, 3.125, 25.0, 1.5625 }[random.Next(5)],
                // Prices of up to 1e9 (whole cents in every double route) times quantities of up to 100,000: the order values' cents pass 2^63 within some 2,000 orders.
                "beyond-a-long" => random.Next(1, 1_000_000_000) + (random.Next(4) * 0.25),
                "some-not-cents" => random.Next(500) == 0 ? Math.Round(random.NextDouble() * 100, 3) + 0.0005 : Math.Round(random.NextDouble() * 100, 2) + 0.01,
                _ => random.Next(4) switch
                {
                    0 => Math.Round(random.NextDouble() * 100, 2) + 0.01,
                    1 => 100 + (random.NextDouble() * 1e-11),
                    2 => Math.BitIncrement(100.0),
                    _ => 0.01 * random.Next(1, 5),
                },
            };
            var quantity = stream switch
            {
                "scales" => new[] { 1, 2, 4, 8 }[random.Next(4)],
                "beyond-a-long" => random.Next(1, 100_000),
                _ => random.Next(1, 20),
            };
            orders.Add((price, quantity));
        }

        return orders;
    }

    /// <summary>
    /// Pairs where the double and the decimal disagree on the order of two values: a price of 17
    /// significant digits sold twice (a new minimum, or maximum), then twice that price, one ulp
    /// further, sold once. The doubles say the second value is the larger (or smaller) by one ulp;
    /// the decimals, each price rounded to 15 digits before the product, can say the opposite.
    /// </summary>
    private static List<(double Price, int Quantity)> RoundingAcross(Random random, bool down)
    {
        var orders = new List<(double, int)>();
        for (var i = 0; i < 10_000; i++)
        {
            var price = (down ? 1000 - (i * 0.01) : 10 + (i * 0.01)) + (random.NextDouble() * 1e-3);
            orders.Add((price, 2));
            orders.Add((down ? Math.BitIncrement(price * 2) : Math.BitDecrement(price * 2), 1));
        }

        return orders;
    }

    /// <summary>The rule before the doubles: every amount compared as a decimal.</summary>
    private readonly record struct Reference(long Count, decimal Sum, decimal Min, decimal Max)
    {
        public static Reference Empty => new(0, 0m, decimal.MaxValue, decimal.MinValue);

        public Reference Add(decimal amount) => new(Count + 1, Sum + amount, Math.Min(Min, amount), Math.Max(Max, amount));
    }
}
