using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;

namespace Orders.Producer.UnitTests;

public sealed class OrderRulesTests
{
    public static TheoryData<Action<Order>, string> Violations() => new()
    {
        { o => o.OrderId = "", "orderId" },
        { o => o.OrderId = new string('x', 65), "orderId" },
        { o => o.Product = " ", "product" },
        { o => o.Price = 0, "price" },
        { o => o.Price = -3, "price" },
        { o => o.Price = double.NaN, "price" },
        { o => o.Quantity = 0, "quantity" },
        { o => o.Currency = "eur", "currency" },
        { o => o.Currency = "EURO", "currency" },
        { o => o.Currency = "EU", "currency" },
        { o => o.Currency = "", "currency" },
        { o => o.Currency = "E1R", "currency" },
        { o => o.Currency = "EUr", "currency" },
        { o => o.Currency = "ÉUR", "currency" },
        { o => o.Currency = "XYZ", "currency" },
        { o => o.Currency = "EUX", "currency" },
        { o => o.Product = new string('p', OrderValidator.MaxProductLength + 1), "product" },
    };

    [Fact]
    public void Validate_AProductAtTheBound_IsValid_AndEveryCurrencyOfTheGenerator()
    {
        var order = Valid();
        order.Product = new string('p', OrderValidator.MaxProductLength);
        Assert.Null(OrderValidator.Validate(order));
        foreach (var currency in new[] { "EUR", "USD", "GBP", "JPY", "CHF", "XAU" })
        {
            order.Currency = currency;
            Assert.Null(OrderValidator.Validate(order));
        }
    }

    [Fact]
    public void Validate_AHugeValue_IsQuotedInPart_NeverSplittingASurrogatePair()
    {
        var order = Valid();
        order.Product = new string('a', 79) + string.Concat(Enumerable.Repeat("\U0001F600", 1000));

        var message = OrderValidator.Validate(order)!;

        Assert.StartsWith($"product must be at most 200 characters, not 2,079 ('{new string('a', 79)}... (2,079 characters)')", message, StringComparison.Ordinal);
        order.OrderId = new string('x', 100_000);
        Assert.True(OrderValidator.Validate(order)!.Length < 200);
    }

    [Fact]
    public void Validate_CreatedAtAfterTheRecordWasWritten_IsInvalidBeyondTheSkew_AndUnknownWhenTheRecordTimeIsNot()
    {
        var order = Valid();
        var written = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        order.CreatedAt = written.Add(OrderValidator.MaxClockSkew).UtcDateTime;
        Assert.Null(OrderValidator.Validate(order, written.ToUnixTimeMilliseconds()));

        order.CreatedAt = order.CreatedAt.AddMilliseconds(1);
        Assert.StartsWith("createdAt must not be after the record was written", OrderValidator.Validate(order, written.ToUnixTimeMilliseconds()), StringComparison.Ordinal);
        Assert.Null(OrderValidator.Validate(order));
        Assert.Null(OrderValidator.Validate(order, 0));
    }

    [Theory]
    [MemberData(nameof(Violations))]
    public void Validate_BrokenRule_SaysWhich(Action<Order> spoil, string field)
    {
        var order = Valid();
        spoil(order);

        Assert.StartsWith(field, OrderValidator.Validate(order), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_EarliestSchemaDefaults_AreValid() =>
        Assert.Null(OrderValidator.Validate(new Order { OrderId = "o-1", Product = "teapot", Price = 12.5 }));

    [Fact]
    public void Generator_SameSeed_SameOrders()
    {
        var time = new FakeTimeProvider();
        var a = new OrderGenerator(new Random(9), time, 0.2);
        var b = new OrderGenerator(new Random(9), time, 0.2);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equivalent(a.Next(), b.Next(), strict: true);
        }
    }

    [Fact]
    public void Generator_ValidOrders_PassValidationWithinCatalogueRanges()
    {
        var generator = new OrderGenerator(new Random(1), new FakeTimeProvider());

        for (var i = 0; i < 2000; i++)
        {
            var (order, valid) = generator.Next();
            Assert.True(valid);
            Assert.Null(OrderValidator.Validate(order));
            var (_, min, max) = OrderGenerator.Catalogue.Single(p => p.Name == order.Product);
            Assert.InRange(order.Price, min, max);
            Assert.InRange(order.Quantity, 1, 5);
            Assert.True(Guid.TryParse(order.OrderId, out _));
        }
    }

    [Fact]
    public void Generator_InvalidRatio_ProducesThatShareOfOrdersThatFailValidation()
    {
        var generator = new OrderGenerator(new Random(2), new FakeTimeProvider(), invalidRatio: 0.25);

        var orders = Enumerable.Range(0, 4000).Select(_ => generator.Next()).ToList();

        Assert.All(orders, o => Assert.Equal(o.Valid, OrderValidator.Validate(o.Order) is null));
        Assert.InRange(orders.Count(o => !o.Valid) / 4000.0, 0.22, 0.28);
    }

    [Fact]
    public void Generator_Quantity_StepsWhereOnePlusFloorOfUToThe2Point5TimesFiveDoes()
    {
        var random = new Random(5);
        for (var i = 0; i < 100_000; i++)
        {
            var u = random.NextDouble();
            Assert.Equal(1 + (int)Math.Floor(Math.Pow(u, 2.5) * 5), OrderGenerator.Quantity(u));
        }
    }

    [Fact]
    public void SentOrder_KeySerializer_WritesTheOrderIdInUtf8()
    {
        var (order, _) = new OrderGenerator(new Random(3), new FakeTimeProvider()).Next(out var id);

        var key = SentOrder.Serializer.Instance.Serialize(new SentOrder(id, order.Price, order.Quantity, order.Currency, Valid: true), default);

        Assert.Equal(order.OrderId, System.Text.Encoding.UTF8.GetString(key));
    }

    private static Order Valid() => new()
    {
        OrderId = Guid.NewGuid().ToString(),
        Product = "kettle",
        Price = 20,
        Quantity = 1,
        Currency = "EUR",
    };
}
