namespace Orders.Processor.Aggregates;

/// <summary>
/// The two measures kept of a set of orders of one currency: the unit price (<c>price</c>) and the
/// order value (<c>price × quantity</c>, a shop's average order value), each with its exact decimal
/// sum, count, minimum and maximum. Both counts are the number of orders.
/// </summary>
public readonly record struct OrderMeasures(PriceStatistics Price, PriceStatistics Value)
{
    public static OrderMeasures Empty => new(PriceStatistics.Empty, PriceStatistics.Empty);

    public long Count => Price.Count;

    /// <param name="amount">The price as a decimal (<see cref="PriceStatistics.ToAmount"/>), converted once by the caller.</param>
    public OrderMeasures Add(decimal amount, int quantity) =>
        new(Price.Add(amount), Value.Add(amount * quantity));

    public OrderMeasures Combine(OrderMeasures other) => new(Price.Combine(other.Price), Value.Combine(other.Value));
}

/// <summary>What one currency's orders come to: overall, per product, per event-time minute.</summary>
public sealed record CurrencyData(OrderMeasures Overall, IReadOnlyDictionary<string, OrderMeasures> Products, IReadOnlyDictionary<long, OrderMeasures> Minutes)
{
    public static CurrencyData Empty { get; } = new(OrderMeasures.Empty, new Dictionary<string, OrderMeasures>(), new Dictionary<long, OrderMeasures>());

    /// <summary>The newest minute with orders, by event time (unix milliseconds of its start), if any.</summary>
    public long? NewestMinute => Minutes.Count == 0 ? null : Minutes.Keys.Max();
}
