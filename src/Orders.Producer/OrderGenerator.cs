using Orders.Contracts;

namespace Orders.Producer;

/// <summary>
/// Realistic random orders from a fixed catalogue: each product has a price range, customers
/// come from a bounded pool, small quantities are likelier than large ones. The same seed gives
/// the same orders (ids included).
/// </summary>
public sealed class OrderGenerator(Random random, TimeProvider time, double invalidRatio = 0)
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

    private static readonly string[] Currencies = ["EUR", "EUR", "EUR", "USD", "USD", "GBP"];
    private static readonly string[] Channels = ["web", "web", "mobile", "store", "partner"];
    private const int Customers = 500;

    // Made once: the generator runs on the producer's hot path.
    private static readonly string[] CustomerIds = [.. Enumerable.Range(1, Customers).Select(i => $"c-{i:D4}")];

    /// <returns>The order, and whether it was made to fail validation.</returns>
    public (Order Order, bool Valid) Next()
    {
        var (name, min, max) = Catalogue[random.Next(Catalogue.Count)];
        Span<byte> id = stackalloc byte[16];
        random.NextBytes(id);
        var order = new Order
        {
            OrderId = new Guid(id).ToString(),
            Product = name,
            Price = Math.Round(min + (random.NextDouble() * (max - min)), 2),
            CustomerId = CustomerIds[random.Next(1, Customers + 1) - 1],
            // 1 is the commonest quantity; 5 the rarest.
            Quantity = 1 + (int)Math.Floor(Math.Pow(random.NextDouble(), 2.5) * 5),
            Currency = Currencies[random.Next(Currencies.Length)],
            CreatedAt = time.GetUtcNow().UtcDateTime,
            Channel = Channels[random.Next(Channels.Length)],
        };

        if (invalidRatio > 0 && random.NextDouble() < invalidRatio)
        {
            Spoil(order);
            return (order, false);
        }

        return (order, true);
    }

    private void Spoil(Order order)
    {
        switch (random.Next(4))
        {
            case 0: order.Price = -order.Price; break;
            case 1: order.Quantity = 0; break;
            case 2: order.Product = ""; break;
            default: order.Currency = "euro"; break;
        }
    }
}
