using System.Globalization;
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

    /// <summary>How long to wait at start for any broker to answer before giving up with an error.</summary>
    public TimeSpan BrokerTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>After cancellation, how long to wait for orders in flight (well inside the CLI's 30 s shutdown window).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Log every order sent (<c>--verbose</c>).</summary>
    public bool LogEachOrder { get; set; }
}

/// <summary>The end of a run.</summary>
/// <param name="Produced">Orders whose delivery the broker acknowledged.</param>
/// <param name="Invalid">Orders made invalid on purpose (<c>--invalid-ratio</c>).</param>
/// <param name="Seconds">The whole run, its start-up (broker check, schema registration) included.</param>
public sealed record ProducerSummary(long Produced, long Failed, long Invalid, double Seconds)
{
    /// <summary>From the first order handed to the client to the end of the run (the last delivery): the part of <see cref="Seconds"/> spent producing.</summary>
    public double ProducingSeconds { get; init; }

    /// <summary>Orders handed to the client.</summary>
    public long Sent { get; init; }

    /// <summary>Orders neither acknowledged nor failed when the run ended (stopped while draining).</summary>
    public long Unacknowledged => Sent - Produced - Failed;

    /// <summary>The acknowledged orders that pass <see cref="OrderValidator"/>: what the processor will count.</summary>
    public ValidOrders Valid { get; init; } = new(0, 0m);

    /// <summary>Acknowledged orders per second of producing (<see cref="ProducingSeconds"/>; the whole run's where that is unknown).</summary>
    public double Rate => (ProducingSeconds > 0 ? ProducingSeconds : Seconds) is var seconds and > 0 ? Produced / seconds : 0;
}

/// <summary>Count and exact sum of prices (decimal: the same in any order, so it can be compared exactly with the processor's).</summary>
public sealed record ValidOrders(long Count, decimal Sum)
{
    public double? Mean => Count == 0 ? null : (double)(Sum / Count);

    /// <summary>The sum with every digit, invariant culture.</summary>
    public string SumText => Sum.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A run in progress.</summary>
public sealed record ProducerProgress(long Sent, long Produced, long Failed, TimeSpan Elapsed)
{
    public double Rate => Elapsed > TimeSpan.Zero ? Produced / Elapsed.TotalSeconds : 0;
}

/// <summary>The run cannot go on: no broker, the schema refused, a fatal client error. The message is one line for the user.</summary>
public sealed class ProducerFailedException(string message, Exception? inner = null) : Exception(message, inner);
