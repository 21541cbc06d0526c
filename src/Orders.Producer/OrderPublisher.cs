using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;

namespace Orders.Producer;

/// <summary>
/// Publishes generated orders: key = order id, value = Avro through the registry, idempotent
/// producer. Every delivery report is counted; failures are logged and counted, never dropped
/// silently. Pacing comes from the injected clock. Cancellation stops generating and flushes.
/// </summary>
public sealed partial class OrderPublisher(
    ProducerConfig producerConfig,
    ISchemaRegistryClient registry,
    ProducerOptions options,
    TimeProvider time,
    ILogger<OrderPublisher> logger)
{
    private long _produced;
    private long _failed;
    private long _invalid;

    public long Produced => Interlocked.Read(ref _produced);

    public long Failed => Interlocked.Read(ref _failed);

    public async Task<ProducerSummary> RunAsync(CancellationToken cancellationToken)
    {
        var config = new ProducerConfig(new Dictionary<string, string>(producerConfig)) { EnableIdempotence = true, Acks = Acks.All };
        config.SetDefault("linger.ms", "5");
        using var producer = new ProducerBuilder<string, Order>(config)
            .SetValueSerializer(new AvroSerializer<Order>(registry).AsSyncOverAsync())
            .LogTo(logger)
            .SetErrorHandler((_, e) => LogKafkaError(logger, e.Code, e.Reason))
            .BuildChecked();

        var generator = new OrderGenerator(new Random(options.Seed), time, options.InvalidRatio);
        var started = time.GetTimestamp();
        long sent = 0;
        try
        {
            var schedule = new ProductionSchedule(options.Rate, options.Count, options.Duration);
            while (!cancellationToken.IsCancellationRequested
                && schedule.WaitBeforeNext(sent, time.GetElapsedTime(started)) is { } wait)
            {
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }

                var (order, valid) = generator.Next();
                if (!valid)
                {
                    Interlocked.Increment(ref _invalid);
                }

                await ProduceAsync(producer, order, cancellationToken);
                sent++;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        // Everything handed to the client is delivered or reported failed before the summary.
        while (producer.Flush(TimeSpan.FromSeconds(1)) > 0)
        {
            LogFlushing(logger, producer.Flush(TimeSpan.Zero));
        }

        var seconds = time.GetElapsedTime(started).TotalSeconds;
        return new ProducerSummary(Produced, Failed, Interlocked.Read(ref _invalid), seconds);
    }

    private async Task ProduceAsync(IProducer<string, Order> producer, Order order, CancellationToken cancellationToken)
    {
        var message = new Message<string, Order> { Key = order.OrderId, Value = order };
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                producer.Produce(options.Topic, message, report =>
                {
                    if (report.Error.IsError)
                    {
                        Interlocked.Increment(ref _failed);
                        LogDeliveryFailed(logger, report.Message.Key, report.Error.Reason);
                    }
                    else
                    {
                        Interlocked.Increment(ref _produced);
                    }
                });
                return;
            }
            catch (ProduceException<string, Order> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(100));
            }
            catch (ProduceException<string, Order> e) when (e.Error.Code == ErrorCode.Local_ValueSerialization)
            {
                // Serialization needs the registry; while it is away, wait rather than drop the order.
                LogSerializationFailed(logger, order.OrderId, backoff.TotalMilliseconds, e.InnerException?.Message ?? e.Message);
                await Task.Delay(backoff, time, cancellationToken);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    [LoggerMessage(1, LogLevel.Error, "Kafka error {Code}: {Reason}")]
    private static partial void LogKafkaError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(2, LogLevel.Error, "Delivery of order {OrderId} failed: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string orderId, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Could not serialize order {OrderId} (registry unavailable?); retrying in {DelayMs} ms: {Error}")]
    private static partial void LogSerializationFailed(ILogger logger, string orderId, double delayMs, string error);

    [LoggerMessage(4, LogLevel.Information, "Flushing: {Count} orders still in flight")]
    private static partial void LogFlushing(ILogger logger, int count);
}
