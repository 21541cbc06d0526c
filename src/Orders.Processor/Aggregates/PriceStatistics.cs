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
/// Beside <see cref="Min"/> and <see cref="Max"/> it keeps their doubles, derived from them and
/// never set apart from them (the properties have no <c>init</c>, so <c>with</c> cannot part them),
/// and left out of equality. They let <see cref="Add(decimal, double)"/> see with a double
/// comparison that an amount lies well inside [Min, Max], and skip the two decimal comparisons:
/// an order enters six of these (price and value, overall, per product, per minute), and those
/// twelve comparisons were a third of the aggregate's cost.
/// </remarks>
public readonly record struct PriceStatistics
{
    /// <summary>
    /// How far inside its bounds, relatively, a double must lie for its exact amount to be strictly
    /// inside them. The errors it covers: <c>(decimal)double</c> rounds to 15 significant digits
    /// (5e-15), a double product rounds (1.1e-16), <c>(double)decimal</c> is within a few ulps (1e-15).
    /// </summary>
    private const double Margin = 1e-12;

    private readonly double _min;
    private readonly double _max;

    public PriceStatistics(long count, decimal sum, decimal min, decimal max)
        : this(count, sum, min, max, (double)min, (double)max)
    {
    }

    private PriceStatistics(long count, decimal sum, decimal min, decimal max, double minDouble, double maxDouble)
    {
        Count = count;
        Sum = sum;
        Min = min;
        Max = max;
        _min = minDouble;
        _max = maxDouble;
    }

    public static PriceStatistics Empty => new(0, 0m, decimal.MaxValue, decimal.MinValue);

    public long Count { get; }

    public decimal Sum { get; }

    public decimal Min { get; }

    public decimal Max { get; }

    public double? Mean => Count == 0 ? null : (double)(Sum / Count);

    /// <summary>The exact mean, for comparisons that must not lose digits.</summary>
    public decimal? ExactMean => Count == 0 ? null : Sum / Count;

    public PriceStatistics Add(double price) => Add(ToAmount(price), price);

    /// <summary>Adds an amount (a price converted once by <see cref="ToAmount"/>, or an order value).</summary>
    public PriceStatistics Add(decimal amount) => Add(amount, double.NaN);

    /// <summary>
    /// Adds an amount whose double is known: the price it was converted from, or the double product
    /// of price and quantity for an order value. Exactly what <see cref="Add(decimal)"/> gives, to
    /// the bit: the decimal minimum and maximum are only left unexamined when the double shows the
    /// amount strictly inside them by far more than every rounding between the two.
    /// </summary>
    /// <param name="approximately">Within 1e-14 of <paramref name="amount"/>, relatively; NaN when not known.</param>
    public PriceStatistics Add(decimal amount, double approximately)
    {
        var (min, max, minDouble, maxDouble) = (Min, Max, _min, _max);
        if (!(minDouble > 0 && approximately > minDouble * (1 + Margin)))
        {
            min = Math.Min(min, amount);
            minDouble = (double)min;
        }

        if (!(maxDouble > 0 && approximately < maxDouble * (1 - Margin)))
        {
            max = Math.Max(max, amount);
            maxDouble = (double)max;
        }

        return new(Count + 1, Sum + amount, min, max, minDouble, maxDouble);
    }

    public PriceStatistics Combine(PriceStatistics other) =>
        new(Count + other.Count, Sum + other.Sum, Math.Min(Min, other.Min), Math.Max(Max, other.Max));

    /// <summary>The amount a price adds to a sum; the producer sums what it sends the same way.</summary>
    /// <remarks>
    /// Exactly <c>(decimal)price</c>, to the bit. A price that is the double nearest to a whole number
    /// of cents (nearly every price) is built from that number instead of by the runtime's general
    /// conversion, which was the dearest step of the aggregate: the runtime rounds to 15 significant
    /// digits, which gives back those cents (fewer than 15 digits, and the double is within 1.1e-16 of
    /// them), with trailing zeros dropped as here. Anything else goes to the runtime.
    /// </remarks>
    public static decimal ToAmount(double price)
    {
        if (price is >= 0.01 and < 1e12)
        {
            var cents = Math.Round(price * 100);
            if (cents / 100 == price)
            {
                var units = (long)cents;
                byte scale = 2;
                while (scale > 0 && units % 10 == 0)
                {
                    units /= 10;
                    scale--;
                }

                return new decimal((int)units, (int)(units >> 32), 0, isNegative: false, scale);
            }
        }

        return (decimal)price;
    }

    public bool Equals(PriceStatistics other) => Count == other.Count && Sum == other.Sum && Min == other.Min && Max == other.Max;

    public override int GetHashCode() => HashCode.Combine(Count, Sum, Min, Max);
}
