namespace Orders.Processor;

/// <summary>Count, sum, min and max of prices: mergeable, so partitions and instances combine exactly.</summary>
public readonly record struct PriceStatistics(long Count, double Sum, double Min, double Max)
{
    public static PriceStatistics Empty => new(0, 0, double.PositiveInfinity, double.NegativeInfinity);

    public double? Mean => Count == 0 ? null : Sum / Count;

    public PriceStatistics Add(double price) =>
        new(Count + 1, Sum + price, Math.Min(Min, price), Math.Max(Max, price));

    public PriceStatistics Combine(PriceStatistics other) =>
        new(Count + other.Count, Sum + other.Sum, Math.Min(Min, other.Min), Math.Max(Max, other.Max));
}
