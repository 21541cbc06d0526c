using System.Diagnostics.Metrics;

namespace Orders.Producer.Observability;

/// <summary>
/// The producer's instruments, on one <see cref="Meter"/> named <see cref="MeterName"/>: observable
/// instruments over the <see cref="OrderPublisher"/>'s own counters (the ones its summary and
/// progress line read), so nothing is recorded per order and nothing can disagree.
/// </summary>
public sealed class ProducerMetrics
{
    public const string MeterName = "Orders.Producer";

    private readonly KeyValuePair<string, object?>[] _tags;
    private readonly KeyValuePair<string, object?>[] _sendTags;
    private readonly KeyValuePair<string, object?>[] _failedTags;

    public ProducerMetrics(IMeterFactory meterFactory, OrderPublisher publisher, string topic)
    {
        _tags = [new("messaging.system", "kafka"), new("messaging.destination.name", topic)];
        _sendTags = [.. _tags, new("messaging.operation.name", "send")];
        // OpenTelemetry's catch-all error type: the delivery reports' codes are logged, not kept.
        _failedTags = [.. _sendTags, new("error.type", "_OTHER")];

        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter<long>(
            "messaging.client.sent.messages",
            () => [new(publisher.Produced, _sendTags), new(publisher.Failed, _failedTags)],
            "{message}",
            "Orders whose delivery the broker acknowledged, and (with error.type) those whose delivery failed.");
        meter.CreateObservableCounter("orders.producer.sent", () => new Measurement<long>(publisher.Sent, _tags), "{order}", "Orders handed to the Kafka client.");
        meter.CreateObservableUpDownCounter(
            "orders.producer.in_flight", () => new Measurement<long>(publisher.Sent - publisher.Produced - publisher.Failed, _tags), "{order}", "Orders handed to the client, not yet acknowledged or failed.");
        meter.CreateObservableCounter(
            "orders.producer.possibly_persisted",
            () => new Measurement<long>(publisher.PossiblyPersisted, _tags),
            "{order}",
            "Of the failed deliveries, those that failed after the order was sent, with no answer from the broker: the topic may hold them.");
        meter.CreateObservableCounter("orders.producer.invalid", () => new Measurement<long>(publisher.Invalid, _tags), "{order}", "Acknowledged orders made invalid on purpose (--invalid-ratio): what the processor dead-letters as invalid.");
        meter.CreateObservableCounter(
            "orders.producer.valid.orders", () => PerCurrency(publisher, c => c.Count), "{order}", "Acknowledged orders that pass validation, per orders.currency: what the processor will count.");
        meter.CreateObservableCounter(
            "orders.producer.valid.sum_of_prices",
            () => PerCurrency(publisher, c => (double)c.PriceSum),
            description: "Sum of the unit prices of the valid acknowledged orders, per orders.currency; compare with the processor's orders.average.sum_of_prices.");
        meter.CreateObservableCounter(
            "orders.producer.valid.sum_of_order_values",
            () => PerCurrency(publisher, c => (double)c.OrderValueSum),
            description: "Sum of the order values (price x quantity) of the valid acknowledged orders, per orders.currency.");
    }

    private IEnumerable<Measurement<T>> PerCurrency<T>(OrderPublisher publisher, Func<CurrencyTotals, T> read)
        where T : struct
    {
        return publisher.Valid.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal)
            .Select(c => new Measurement<T>(read(c.Value), [.. _tags, new("orders.currency", c.Key)]))
            .ToList();
    }
}
