namespace Orders.Processor.Aggregates;

/// <summary>
/// An amount as it enters <see cref="PriceStatistics"/>: exactly one decimal, held as a whole number
/// of cents with that decimal's scale when it is one (nearly every price and order value), else as
/// the decimal itself; with the double it came from, for the shortcut of the minimum and maximum.
/// Sums of cents are long additions that give the decimal sums' bits (see <see cref="PriceAccumulator"/>),
/// where a decimal addition of two scales was the dearest step of the aggregate.
/// </summary>
public readonly struct Amount
{
    /// <summary>The <see cref="Cents"/> of an amount that is not whole cents, or is zero: its decimal is kept instead.</summary>
    private const long NotCents = -1;

    private static readonly long[] Divisors = [100, 10, 1];

    private readonly decimal _exact;

    private Amount(long cents, byte scale, decimal exact, double approximately)
    {
        Cents = cents;
        Scale = scale;
        _exact = exact;
        Approximately = approximately;
    }

    /// <summary>The amount in cents (at least 1) when it is a whole number of them; -1 when it is not, or is 0.</summary>
    public long Cents { get; }

    /// <summary>The decimal's scale (0, 1 or 2) when it is whole cents: 12.5 has 1, 12.50 has 2.</summary>
    public byte Scale { get; }

    /// <summary>The double it came from (a price, or the double product of price and quantity); NaN when not known.</summary>
    public double Approximately { get; }

    public bool IsCents => Cents > 0;

    /// <summary>The decimal it stands for, to the bit.</summary>
    public decimal Exact => IsCents ? FromCents(Cents, Scale) : _exact;

    /// <summary>
    /// Exactly <c>(decimal)price</c>, to the bit. A price that is the double nearest to a whole number
    /// of cents (0.01 to 1e12: nearly every price) is kept as that number, with the scale the runtime's
    /// conversion gives it: the runtime rounds to 15 significant digits, which gives back those cents
    /// (fewer than 15 digits, and the double is within 1.1e-16 of them), with trailing zeros dropped.
    /// Anything else goes to the runtime.
    /// </summary>
    /// <exception cref="OverflowException">NaN, an infinity, or beyond what a decimal holds, as the runtime's conversion.</exception>
    public static Amount Of(double price)
    {
        if (price is >= 0.01 and < 1e12)
        {
            var cents = Math.Round(price * 100);
            if (cents / 100 == price)
            {
                var whole = (long)cents;
                byte scale = whole % 10 != 0 ? (byte)2 : whole % 100 != 0 ? (byte)1 : (byte)0;
                return new Amount(whole, scale, 0m, price);
            }
        }

        return new Amount(NotCents, 0, (decimal)price, price);
    }

    /// <summary>An amount known as a decimal (with its double, or NaN): whole cents when it is positive, of scale 2 at most, and below 2^63 cents.</summary>
    public static Amount Of(decimal exact, double approximately)
    {
        if (exact.Scale <= 2 && exact > 0 && exact < 90_000_000_000_000_000m)
        {
            return new Amount((long)(exact * 100), exact.Scale, 0m, approximately);
        }

        return new Amount(NotCents, 0, exact, approximately);
    }

    /// <summary>
    /// The order value, exactly <c>Exact * quantity</c>: a decimal product keeps the price's scale
    /// (12.5 x 2 = 25.0), so whole cents times a positive quantity are those cents times it, of the same scale.
    /// </summary>
    public Amount Times(int quantity)
    {
        var approximately = Approximately * quantity;
        // Below 2^32 cents (nearly always) the product fits a long; a 64-bit division to check would cost more than the rest.
        if (IsCents && quantity > 0 && (Cents <= uint.MaxValue || (Math.BigMul(Cents, (long)quantity, out var low) == 0 && low >= 0)))
        {
            return new Amount(Cents * quantity, Scale, 0m, approximately);
        }

        return new Amount(NotCents, 0, Exact * quantity, approximately);
    }

    /// <summary>The decimal of <paramref name="cents"/> (a multiple of 10^(2 - scale)) with that scale: its digits, unnormalised.</summary>
    internal static decimal FromCents(long cents, byte scale)
    {
        var units = cents / Divisors[scale];
        return new decimal((int)units, (int)(units >> 32), 0, isNegative: false, scale);
    }
}
