namespace Orders.Processor.Aggregates;

/// <summary>
/// <see cref="PriceStatistics"/> while they are being added to: the aggregate keeps one per set of
/// orders and adds to it in place (a partition's loop adds every order to six of them), and hands
/// out <see cref="ToStatistics"/>, the figures decimal arithmetic gives, to the bit. Mutable, so
/// only the aggregate that owns it touches it, on the loop's thread.
/// </summary>
/// <remarks>
/// <para>
/// Two shortcuts, each giving the same bits as the decimal operations it replaces:
/// </para>
/// <para>
/// Beside <see cref="Min"/> and <see cref="Max"/> it keeps their doubles. When an amount's double
/// lies inside them by more than every rounding between double and decimal (<see cref="Margin"/>),
/// the amount is strictly inside, and the two decimal comparisons are skipped. An amount that is
/// a bound to the bit (a price that recurs: the same product at the same price) skips them too: it
/// cannot move that bound, and the comparison would not show it inside by the margin.
/// </para>
/// <para>
/// While every amount added is whole cents (<see cref="Amount.IsCents"/>), the sum is kept as a
/// number of cents and the largest scale among them. A decimal sum of such amounts is exact and has
/// the largest scale of its terms (0 + 12.5 + 3.75 = 16.25; 12.5 + 12.5 = 25.0), so the decimal made
/// from the cents and that scale is the decimal sum, bit for bit, while each addition is a long one.
/// The first amount that is not whole cents, or that would carry the cents past 2^63, turns it into
/// the decimal sum, for good, and the additions go on as decimal ones.
/// </para>
/// </remarks>
internal struct PriceAccumulator
{
    /// <summary>
    /// How far inside its bounds, relatively, a double must lie for its exact amount to be strictly
    /// inside them. The errors it covers: <c>(decimal)double</c> rounds to 15 significant digits
    /// (5e-15), a double product rounds (1.1e-16), <c>(double)decimal</c> is within a few ulps (1e-15).
    /// </summary>
    private const double Margin = 1e-12;

    /// <summary>The scale of a sum kept as a decimal (<see cref="_sum"/>), not as cents.</summary>
    private const sbyte DecimalSum = -1;

    /// <summary>The key (<see cref="KeyOf"/>) of a bound whose bits are not known as whole cents.</summary>
    private const long NoKey = -1;

    private long _count;
    private long _cents;
    private sbyte _scale;
    private decimal _sum;
    private decimal _min;
    private decimal _max;
    private double _minDouble;
    private double _maxDouble;

    // The keys of the minimum's and the maximum's bits, when they are whole cents set by an amount; else NoKey.
    private long _minKey;
    private long _maxKey;

    public static PriceAccumulator Empty => From(PriceStatistics.Empty);

    public readonly long Count => _count;

    public readonly decimal Sum => _scale == DecimalSum ? _sum : Amount.FromCents(_cents, (byte)_scale);

    public readonly decimal Min => _min;

    public readonly decimal Max => _max;

    /// <summary>Goes on from <paramref name="statistics"/> (a restored checkpoint's, say), with the same bits as decimal arithmetic would.</summary>
    public static PriceAccumulator From(in PriceStatistics statistics)
    {
        var accumulator = new PriceAccumulator
        {
            _count = statistics.Count,
            _min = statistics.Min,
            _max = statistics.Max,
            _minDouble = (double)statistics.Min,
            _maxDouble = (double)statistics.Max,
            _minKey = NoKey,
            _maxKey = NoKey,
        };
        var sum = statistics.Sum;
        if (sum == 0 && sum.Scale == 0 && !decimal.IsNegative(sum))
        {
            // 0m, as Empty has it: the sum of no cents.
            (accumulator._cents, accumulator._scale) = (0, 0);
        }
        else if (Amount.Of(sum, double.NaN) is { IsCents: true } cents)
        {
            (accumulator._cents, accumulator._scale) = (cents.Cents, (sbyte)cents.Scale);
        }
        else
        {
            (accumulator._scale, accumulator._sum) = (DecimalSum, sum);
        }

        return accumulator;
    }

    public readonly PriceStatistics ToStatistics() => new(_count, Sum, _min, _max);

    /// <summary>Adds an amount: afterwards, the figures are what adding its decimal with decimal arithmetic gives, to the bit.</summary>
    public void Add(in Amount amount)
    {
        var approximately = amount.Approximately;
        if (!(_minDouble > 0 && approximately > _minDouble * (1 + Margin)) && KeyOf(amount) is var key && !(key != NoKey && key == _minKey))
        {
            var exact = amount.Exact;
            var comparison = decimal.Compare(exact, _min);
            if (comparison <= 0)
            {
                // An equal value of another scale: which of the two stays is Math.Min's rule.
                (_min, _minKey) = comparison < 0 ? (exact, key) : (Math.Min(_min, exact), NoKey);
                _minDouble = (double)_min;
            }
        }

        if (!(_maxDouble > 0 && approximately < _maxDouble * (1 - Margin)) && KeyOf(amount) is var maxKey && !(maxKey != NoKey && maxKey == _maxKey))
        {
            var exact = amount.Exact;
            var comparison = decimal.Compare(exact, _max);
            if (comparison >= 0)
            {
                (_max, _maxKey) = comparison > 0 ? (exact, maxKey) : (Math.Max(_max, exact), NoKey);
                _maxDouble = (double)_max;
            }
        }

        _count++;
        if (_scale != DecimalSum && amount.IsCents && amount.Cents <= long.MaxValue - _cents)
        {
            _cents += amount.Cents;
            _scale = Math.Max(_scale, (sbyte)amount.Scale);
            return;
        }

        _sum = Sum + amount.Exact;
        _scale = DecimalSum;
    }

    /// <summary>
    /// One number for the bits of a whole-cents amount's decimal (its cents and scale): equal keys, equal
    /// bits, so an amount whose key is the minimum's (a price that recurs) leaves it as it is, without
    /// a decimal comparison. <see cref="NoKey"/> for any other amount.
    /// </summary>
    private static long KeyOf(in Amount amount) => amount.IsCents && amount.Cents <= long.MaxValue >> 2 ? (amount.Cents << 2) | amount.Scale : NoKey;
}

/// <summary>An <see cref="OrderMeasures"/> being added to: the unit price's and the order value's accumulators.</summary>
internal struct MeasuresAccumulator
{
    public PriceAccumulator Price;
    public PriceAccumulator Value;

    public static MeasuresAccumulator Empty => new() { Price = PriceAccumulator.Empty, Value = PriceAccumulator.Empty };

    public readonly long Count => Price.Count;

    public static MeasuresAccumulator From(in OrderMeasures measures) =>
        new() { Price = PriceAccumulator.From(measures.Price), Value = PriceAccumulator.From(measures.Value) };

    public readonly OrderMeasures ToMeasures() => new(Price.ToStatistics(), Value.ToStatistics());

    /// <param name="price">The order's price (<see cref="Amount.Of(double)"/>).</param>
    /// <param name="value">Its value, <c>price.Times(quantity)</c>, computed once for the three sets an order enters.</param>
    public void Add(in Amount price, in Amount value)
    {
        Price.Add(price);
        Value.Add(value);
    }
}
