using Orders.Contracts;

namespace Orders.Producer;

/// <summary>
/// Realistic random orders from a fixed catalogue: each product has a price range, customers
/// come from a bounded pool, small quantities are likelier than large ones. The same seed gives
/// the same orders (ids included).
/// </summary>
public sealed class OrderGenerator
{
    public static IReadOnlyList<(string Name, double MinPrice, double MaxPrice)> Catalogue { get; } =
    [
        ("espresso-machine", 149.0, 899.0),
        ("kettle", 19.9, 89.0),
        ("teapot", 12.5, 65.0),
        ("coffee-grinder", 39.0, 249.0),
        ("french-press", 15.0, 55.0),
        ("milk-frother", 9.9, 79.0),
        ("mug", 4.5, 24.0),
        ("coffee-beans-1kg", 14.0, 42.0),
        ("tea-sampler", 9.0, 35.0),
        ("scale", 12.0, 60.0),
    ];

    private const int Customers = 500;
    private const int MaxQuantity = 5;

    // Each string with its Avro encoding, made once: the generator runs on the producer's hot path.
    private static readonly EncodedText[] ProductTexts = EncodedText.All(Catalogue.Select(p => p.Name));
    private static readonly EncodedText[] CustomerIds = EncodedText.All(Enumerable.Range(1, Customers).Select(i => $"c-{i:D4}"));
    private static readonly EncodedText[] Currencies = EncodedText.All(["EUR", "EUR", "EUR", "USD", "USD", "GBP"]);
    private static readonly EncodedText[] Channels = EncodedText.All(["web", "web", "mobile", "store", "partner"]);
    private static readonly EncodedText NoProduct = new("");
    private static readonly EncodedText NotACurrency = new("euro");

    // Quantity = 1 + floor(u^2.5 * 5) for a uniform u, so 1 is the commonest and 5 the rarest: the
    // same as comparing u with the points where that expression steps (no Math.Pow per order).
    private static readonly double[] QuantitySteps = [.. Enumerable.Range(1, MaxQuantity - 1).Select(q => Math.Pow(q / (double)MaxQuantity, 1 / 2.5))];

    private readonly Random _random;
    private readonly TimeProvider _time;
    private readonly double _invalidRatio;

    // The ids' 128 random bits come from SplitMix64 seeded by the injected Random: a seeded Random
    // (.NET's compatible algorithm) costs ~16 samples for 16 bytes, the largest part of generating an order.
    private ulong _idState;

    public OrderGenerator(Random random, TimeProvider time, double invalidRatio = 0)
    {
        _random = random;
        _time = time;
        _invalidRatio = invalidRatio;
        _idState = (ulong)random.NextInt64();
    }

    /// <returns>The order, and whether it was made to fail validation.</returns>
    public (Order Order, bool Valid) Next() => Next(out _);

    /// <param name="id">The order's id as a value (<c>OrderId</c> is its "D" format), for a publisher that keeps it without a string.</param>
    internal (Order Order, bool Valid) Next(out Guid id)
    {
        var drawn = Draw();
        id = drawn.Id;
        return (drawn.ToOrder(), drawn.Valid);
    }

    /// <summary>The next order as drawn, before it is an <see cref="Order"/>: what <see cref="Next()"/> would return next.</summary>
    internal DrawnOrder Draw()
    {
        var product = _random.Next(Catalogue.Count);
        var (_, min, max) = Catalogue[product];
        var order = new DrawnOrder(
            Id: NextId(),
            Product: ProductTexts[product],
            Price: Math.Round(min + (_random.NextDouble() * (max - min)), 2),
            CustomerId: CustomerIds[_random.Next(1, Customers + 1) - 1],
            Quantity: Quantity(_random.NextDouble()),
            Currency: Currencies[_random.Next(Currencies.Length)],
            CreatedAt: _time.GetUtcNow().UtcDateTime,
            Channel: Channels[_random.Next(Channels.Length)],
            Valid: true);

        return _invalidRatio > 0 && _random.NextDouble() < _invalidRatio ? Spoil(order) : order;
    }

    internal static int Quantity(double uniform)
    {
        var quantity = 1;
        foreach (var step in QuantitySteps)
        {
            if (uniform >= step)
            {
                quantity++;
            }
        }

        return quantity;
    }

    private Guid NextId()
    {
        Span<ulong> bits = [SplitMix64(ref _idState), SplitMix64(ref _idState)];
        return new Guid(System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits));
    }

    private static ulong SplitMix64(ref ulong state)
    {
        var z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private DrawnOrder Spoil(DrawnOrder order) => _random.Next(4) switch
    {
        0 => order with { Price = -order.Price, Valid = false },
        1 => order with { Quantity = 0, Valid = false },
        2 => order with { Product = NoProduct, Valid = false },
        _ => order with { Currency = NotACurrency, Valid = false },
    };
}
