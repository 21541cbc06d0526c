using Confluent.Kafka;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor.Aggregates;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Records;

/// <summary>
/// The processing path of one record, top to bottom: decode and validate (<see cref="ReadAsync"/>),
/// handle (the <see cref="IOrderHandler"/>, which may take its time: the <see cref="Dispatcher"/>
/// runs it), aggregate (<see cref="Count"/>). Each step is its own type, tested alone; the record
/// processor and the failure policy wrap this.
/// </summary>
public sealed class OrderPipeline(OrderDecoder decoder, IOrderHandler handler, ProcessorMetrics? metrics = null)
{
    /// <returns>The order, and why it is invalid (null when it is valid).</returns>
    /// <exception cref="PoisonRecordException">The bytes can never become an order (in the returned task).</exception>
    /// <exception cref="RegistryUnavailableException">The writer's schema is needed and the registry cannot be reached (in the returned task).</exception>
    public ValueTask<(Order Order, string? Invalid)> ReadAsync(ConsumeResult<byte[]?, byte[]?> record)
    {
        // Synchronous when the writer schema is known: no task of its own for nearly every record; the
        // rest (a schema to resolve, a null value) the decoder's asynchronous way. Whatever goes wrong
        // is in the returned task, never thrown from here, as from an async method.
        try
        {
            var writtenAt = WrittenAt(record);
            return record.Message.Value is { } value && decoder.TryDecode(value, out var order)
                ? new ValueTask<(Order, string?)>((order, OrderValidator.Validate(order, writtenAt)))
                : ReadLaterAsync(decoder.DecodeAsync(record.Message.Value), writtenAt);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return ValueTask.FromException<(Order, string?)>(e);
        }
    }

    /// <summary>When the record was written, for the validator's rule on <c>createdAt</c>; null when its timestamp is not known.</summary>
    internal static long? WrittenAt(ConsumeResult<byte[]?, byte[]?> record) =>
        record.Message.Timestamp is { Type: not TimestampType.NotAvailable, UnixTimestampMs: > 0 and var ms } ? ms : null;

    private static async ValueTask<(Order Order, string? Invalid)> ReadLaterAsync(ValueTask<Order> decoding, long? writtenAt)
    {
        var order = await decoding;
        return (order, OrderValidator.Validate(order, writtenAt));
    }

    /// <summary>Calls the handler; a handler that throws at once fails the call, it does not escape.</summary>
    public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
    {
        try
        {
            // Not on the loop's context: a slow handler's awaits end on the pool, concurrently.
            using var _ = LoopThread.Suppressed();
            return handler.HandleAsync(order, cancellationToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return ValueTask.FromException(e);
        }
    }

    /// <summary>The order was handled: it enters the partition's aggregate.</summary>
    /// <param name="endedAt">When its processing ended, if the processing time was measured (<see cref="ProcessorMetrics.Processed"/>).</param>
    public void Count(Order order, long eventTimeMs, PartitionAggregate aggregate, long? endedAt = null)
    {
        aggregate.Add(order.Currency, order.Product, order.Price, order.Quantity, eventTimeMs);
        metrics?.Completed(order, endedAt);
    }
}
