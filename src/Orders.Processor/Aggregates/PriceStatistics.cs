namespace Orders.Processor.Aggregates;

/// <summary>
/// Count, sum, min and max of prices. The sum is a <see cref="decimal"/>: each price enters as
/// <c>(decimal)price</c> (rounded to 15 significant digits, so a price written with cents is
/// exact), and decimal addition of such amounts is exact, hence associative and commutative.
/// Partitions, checkpoints and processor instances therefore merge to the same figure in any
/// order, bit for bit, and the producer's own sum of what it sent can be compared exactly.
/// Compensated (Kahan/Neumaier) summation would only make the error small, not order-independent.
/// The minimum and maximum are amounts too: an order value (price x quantity) shows as 1389.12,
/// never as the double 1389.1200000000001.
/// </summary>
/// <remarks>
/// A snapshot: the aggregate adds orders to a <see cref="PriceAccumulator"/> in place, and the
/// <see cref="Add(in Amount)"/> here goes through one, with the same bits.
/// </remarks>
public readonly record struct PriceStatistics(long Count, decimal Sum, decimal Min, decimal Max)
{
    public static PriceStatistics Empty => new(0, 0m, decimal.MaxValue, decimal.MinValue);

    public double? Mean => Count == 0 ? null : (double)(Sum / Count);

    /// <summary>The exact mean, for comparisons that must not lose digits.</summary>
    public decimal? ExactMean => Count == 0 ? null : Sum / Count;

    public PriceStatistics Add(double price) => Add(Amount.Of(price));

    /// <summary>Adds an amount (a price converted by <see cref="ToAmount"/>, or an order value).</summary>
    public PriceStatistics Add(decimal amount) => Add(Amount.Of(amount, double.NaN));

    /// <summary>Adds an amount: what decimal arithmetic gives, to the bit.</summary>
    public PriceStatistics Add(in Amount amount)
    {
        var accumulator = PriceAccumulator.From(this);
        accumulator.Add(amount);
        return accumulator.ToStatistics();
    }

    public PriceStatistics Combine(PriceStatistics other) =>
        new(Count + other.Count, Sum + other.Sum, Math.Min(Min, other.Min), Math.Max(Max, other.Max));

    /// <summary>The amount a price adds to a sum (exactly <c>(decimal)price</c>); the producer sums what it sends the same way.</summary>
    public static decimal ToAmount(double price) => Amount.Of(price).Exact;
}
