using Orders.Contracts;

namespace Orders.Producer;

public sealed class ProducerOptions
{
    public string Topic { get; set; } = Topics.Orders;

    /// <summary>Stop after this many orders; null for no limit.</summary>
    public long? Count { get; set; }

    /// <summary>Stop after this long; null for no limit.</summary>
    public TimeSpan? Duration { get; set; }

    /// <summary>Orders per second; null for as fast as the client takes them.</summary>
    public double? Rate { get; set; }

    public double InvalidRatio { get; set; }

    public int Seed { get; set; } = 42;
}

public sealed record ProducerSummary(long Produced, long Failed, long Invalid, double Seconds)
{
    public double Rate => Seconds > 0 ? Produced / Seconds : 0;
}
