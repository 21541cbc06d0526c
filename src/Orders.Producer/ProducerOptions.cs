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

    /// <summary>How long to wait at start for any broker to answer before giving up with an error: the processor's bound too.</summary>
    public TimeSpan BrokerTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long to wait at start for the topic to exist (the producer never creates one) before giving
    /// up with an error: as long as <c>orders consume --until-idle</c> waits for its topic.
    /// </summary>
    public TimeSpan TopicWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long to wait at start for the Schema Registry to register the Order schema while it does not answer (a
    /// wrong URL, a registry not up yet) before giving up with an error, as for the topic. Once registered, the
    /// schema's id is kept: a registry that goes away later stops nothing.
    /// </summary>
    public TimeSpan RegistryWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>After cancellation, how long to wait for orders in flight (well inside the CLI's 30 s shutdown window).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Log every order sent (<c>--verbose</c>).</summary>
    public bool LogEachOrder { get; set; }
}

/// <summary>The end of a run.</summary>
/// <param name="Produced">Orders whose delivery the broker acknowledged.</param>
/// <param name="Invalid">Acknowledged orders made invalid on purpose (<c>--invalid-ratio</c>): what the processor dead-letters as invalid.</param>
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
    public ValidOrders Valid { get; init; } = ValidOrders.None;

    /// <summary>
    /// Of <see cref="Failed"/>, the orders sent whose delivery failed with no answer from the broker (a
    /// timeout in flight): the broker may have written them. The topic then holds at least
    /// <see cref="Produced"/> orders and at most <see cref="Produced"/> plus these.
    /// </summary>
    public long PossiblyPersisted { get; init; }

    /// <summary>The valid ones among <see cref="PossiblyPersisted"/>: the processor counts <see cref="Valid"/> and at most these besides.</summary>
    public ValidOrders ValidPossiblyPersisted { get; init; } = ValidOrders.None;

    /// <summary>Acknowledged orders per second of producing (<see cref="ProducingSeconds"/>; the whole run's where that is unknown).</summary>
    public double Rate => (ProducingSeconds > 0 ? ProducingSeconds : Seconds) is var seconds and > 0 ? Produced / seconds : 0;
}

/// <summary>
/// The valid acknowledged orders, per currency (amounts of different currencies are never added):
/// count and exact sums of unit prices and of order values (decimal: the same in any order, so they
/// compare exactly with the processor's).
/// </summary>
public sealed record ValidOrders(IReadOnlyDictionary<string, CurrencyTotals> Currencies)
{
    public static ValidOrders None { get; } = new(new Dictionary<string, CurrencyTotals>(StringComparer.Ordinal));

    /// <summary>Orders of every currency (a count, never an amount, may be added across them).</summary>
    public long Count => Currencies.Values.Sum(c => c.Count);
}

/// <summary>One currency's valid orders: count, sum of unit prices, sum of order values (price x quantity).</summary>
public readonly record struct CurrencyTotals(long Count, decimal PriceSum, decimal OrderValueSum)
{
    public double? PriceMean => Count == 0 ? null : (double)(PriceSum / Count);

    public double? OrderValueMean => Count == 0 ? null : (double)(OrderValueSum / Count);

    /// <summary>The price sum with every digit, invariant culture.</summary>
    public string PriceSumText => PriceSum.ToString(CultureInfo.InvariantCulture);

    public string OrderValueSumText => OrderValueSum.ToString(CultureInfo.InvariantCulture);

    /// <summary>Adds an order. A double's decimal conversion keeps 15 digits, so sums of 2-decimal prices are exact in any order, as the processor's are.</summary>
    public CurrencyTotals Add(double price, int quantity)
    {
        var amount = (decimal)price;
        return new(Count + 1, PriceSum + amount, OrderValueSum + (amount * quantity));
    }
}

/// <summary>Counts valid acknowledged orders per currency; safe for the delivery thread and readers at once.</summary>
public sealed class ValidTally
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, CurrencyTotals> _currencies = new(StringComparer.Ordinal);

    public void Add(string currency, double price, int quantity)
    {
        lock (_lock)
        {
            _currencies[currency] = _currencies.GetValueOrDefault(currency).Add(price, quantity);
        }
    }

    public ValidOrders Snapshot()
    {
        lock (_lock)
        {
            return new ValidOrders(new Dictionary<string, CurrencyTotals>(_currencies, StringComparer.Ordinal));
        }
    }
}

/// <summary>A run in progress.</summary>
public sealed record ProducerProgress(long Sent, long Produced, long Failed, TimeSpan Elapsed)
{
    public double Rate => Elapsed > TimeSpan.Zero ? Produced / Elapsed.TotalSeconds : 0;
}

/// <summary>The run cannot go on: no topic, the schema refused, a fatal client error. The message is one line for the user.</summary>
public sealed class ProducerFailedException(string message, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>How far the run got, when it had sent orders before it failed: some of them are in the topic.</summary>
    public ProducerSummary? Summary { get; init; }
}
