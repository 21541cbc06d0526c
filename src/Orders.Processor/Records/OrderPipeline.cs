using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Aggregates;
using Orders.Processor.Observability;

namespace Orders.Processor.Records;

/// <summary>
/// The processing path of one record, top to bottom: decode, validate, handle, aggregate. Each
/// step is its own type, tested alone; the consume loop and the failure policy wrap this.
/// </summary>
public sealed class OrderPipeline(OrderDecoder decoder, IOrderHandler handler, ProcessorMetrics? metrics = null)
{
    /// <returns>Null when the order was processed and counted; otherwise why it is invalid (nothing was counted).</returns>
    /// <exception cref="PoisonRecordException">The bytes can never become an order.</exception>
    /// <exception cref="RegistryUnavailableException">The writer's schema is needed and the registry cannot be reached.</exception>
    /// <remarks>Any other exception is the handler's, taken as transient.</remarks>
    public async ValueTask<string?> RunAsync(ConsumeResult<byte[]?, byte[]?> record, PartitionAggregate aggregate, CancellationToken cancellationToken)
    {
        var order = await decoder.DecodeAsync(record.Message.Value);
        if (OrderValidator.Validate(order) is { } problem)
        {
            return problem;
        }

        await handler.HandleAsync(order, cancellationToken);
        aggregate.Add(order.Product, order.Price, EventTimeWindows.EventTimeMs(order, record.Message.Timestamp.UnixTimestampMs));
        metrics?.Completed(order);
        return null;
    }
}
