using System.Net;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Hosting;
using Orders.Kafka;
using Orders.RegistryClient;

namespace Orders.Producer;

/// <summary>
/// Publishes generated orders: key = order id, value = Avro in the Confluent wire format
/// (<see cref="OrderSerializer"/>), idempotent producer. Every delivery report is counted by one
/// shared handler; failures are logged and counted, never dropped silently. Before the first
/// order it makes sure a broker answers and the topic exists (each waited for within a bound, then
/// one line; it never creates the topic) and the registry has the schema (waits while the registry
/// is unreachable; a refusal such as 409 is fatal). Pacing comes from the
/// injected clock. Cancellation stops generating, then waits at most <see cref="ProducerOptions.DrainTimeout"/>
/// for what is in flight.
/// </summary>
public sealed partial class OrderPublisher
{
    private readonly ProducerConfig _producerConfig;
    private readonly ProducerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<OrderPublisher> _logger;
    private readonly OrderSerializer _serializer;
    /// <summary>How long a registration goes without an answer before the log says the registry is slow.</summary>
    private static readonly TimeSpan SlowRegistry = TimeSpan.FromSeconds(5);

    private readonly Action<DeliveryReport<SentOrder, byte[]>> _onDelivery;
    private readonly ValidTally _valid = new();
    private readonly ValidTally _validPossiblyPersisted = new();
    private readonly CancellationTokenSource _fatal = new();
    private long _sent;
    private long _produced;
    private long _failed;
    private long _possiblyPersisted;
    private long _invalid;
    private long _started;
    private long _producingSince;
    private string? _fatalError;
    private string? _sendError;
    private RepeatSuppressor<string>? _failureLog;

    public OrderPublisher(
        ProducerConfig producerConfig,
        ISchemaRegistryClient registry,
        ProducerOptions options,
        TimeProvider time,
        ILogger<OrderPublisher> logger)
    {
        _producerConfig = producerConfig;
        _options = options;
        _time = time;
        _logger = logger;
        _serializer = new OrderSerializer(registry);

        // One handler for every message: no closure, no allocation of ours per delivery.
        _onDelivery = OnDelivery;
    }

    /// <summary>Orders handed to the client.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Orders whose delivery the broker acknowledged.</summary>
    public long Produced => Interlocked.Read(ref _produced);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Of <see cref="Failed"/>, the orders whose delivery failed after they were sent (a timeout in flight): they may be in the topic all the same.</summary>
    public long PossiblyPersisted => Interlocked.Read(ref _possiblyPersisted);

    /// <summary>Acknowledged orders made invalid on purpose (<see cref="ProducerOptions.InvalidRatio"/>).</summary>
    public long Invalid => Interlocked.Read(ref _invalid);

    /// <summary>The acknowledged orders that pass validation so far.</summary>
    public ValidOrders Valid => _valid.Snapshot();

    /// <summary>How far it got, for a live view or a progress line.</summary>
    public ProducerProgress Progress => new(Sent, Produced, Failed, _started == 0 ? TimeSpan.Zero : _time.GetElapsedTime(_started));

    /// <exception cref="BrokerUnreachableException">No broker answered within <see cref="ProducerOptions.BrokerTimeout"/>.</exception>
    /// <exception cref="ProducerFailedException">The topic does not exist, the schema refused, or a fatal client error.</exception>
    /// <exception cref="KafkaConfigurationException">librdkafka rejected a setting.</exception>
    public async Task<ProducerSummary> RunAsync(CancellationToken cancellationToken)
    {
        var config = PublisherClientConfig.Producer(_producerConfig);

        // A failed delivery is logged with its order; the same failure again within 10 s is counted and
        // reported as one line (a broker away fails every order in flight at once: 100,000 lines).
        using var failureLog = _failureLog = new RepeatSuppressor<string>(
            _time, TimeSpan.FromSeconds(10), (reason, count, window) => LogDeliveriesFailed(_logger, count, Math.Round(window.TotalSeconds, 3), reason));

        // One route for the client's log lines and errors: repeats (an unreachable broker, many a second) are counted, secrets masked.
        using var route = new KafkaLogRoute(_logger, _time);
        route.HoldNoBrokerErrors();
        IProducer<SentOrder, byte[]> Build() => new ProducerBuilder<SentOrder, byte[]>(config)
            .SetKeySerializer(SentOrder.Serializer.Instance)
            .LogTo(route)
            .LogErrorsTo(route, OnError)
            .BuildChecked();

        var producer = Build();
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _fatal.Token);
            _started = _time.GetTimestamp();

            // The route outlives the producer (disposed before it), so its last repeat counts are written.
            var (ready, maxMessageBytes) = await WaitForClusterAsync(producer, route, stop.Token);
            if (ready && PublisherClientConfig.BatchSizeFor(config, maxMessageBytes) is { } batchSize)
            {
                // Nothing was sent yet: the producer is built again with batches the topic takes.
                LogBatchSize(_logger, _options.Topic, maxMessageBytes!.Value, batchSize);
                producer.Dispose();
                config.BatchSize = batchSize;
                producer = Build();
            }

            if (ready && await RegisterSchemaAsync(stop.Token))
            {
                await ProduceAllAsync(producer, stop.Token);
            }

            Drain(producer, cancellationToken);
        }
        finally
        {
            producer.Dispose();
        }

        if ((_fatalError ?? _sendError) is { } error)
        {
            // The line says how far the run got; the summary goes with it, since orders acknowledged before are in the topic.
            var unacknowledged = Sent - Produced - Failed;
            throw new ProducerFailedException($"{error} (of {Sent} orders sent: {Produced} acknowledged, {Failed} failed, {unacknowledged} unacknowledged)")
            {
                Summary = Sent > 0 ? Summary() : null,
            };
        }

        return Summary();
    }

    private ProducerSummary Summary() =>
        new(Produced, Failed, Interlocked.Read(ref _invalid), _time.GetElapsedTime(_started).TotalSeconds)
        {
            ProducingSeconds = _producingSince == 0 ? 0 : _time.GetElapsedTime(_producingSince).TotalSeconds,
            Sent = Sent,
            Valid = _valid.Snapshot(),
            PossiblyPersisted = PossiblyPersisted,
            ValidPossiblyPersisted = _validPossiblyPersisted.Snapshot(),
        };

    /// <summary>
    /// A broker that answers, then the topic: the topic is never created here (nor by the client,
    /// <see cref="PublisherClientConfig"/>), so an address or a topic name with a typo is one line
    /// after a bounded wait, not minutes of retries or a junk topic.
    /// </summary>
    /// <returns>
    /// False when cancelled first; with the topic's <c>max.message.bytes</c>, the largest record batch its brokers take,
    /// or null when the cluster would not say (no DescribeConfigs permission: the client's batches stay as configured).
    /// </returns>
    /// <exception cref="BrokerUnreachableException">No broker answered within <see cref="ProducerOptions.BrokerTimeout"/>.</exception>
    /// <exception cref="ProducerFailedException">The topic did not exist within <see cref="ProducerOptions.TopicWait"/>.</exception>
    private async Task<(bool Ready, int? MaxMessageBytes)> WaitForClusterAsync(IProducer<SentOrder, byte[]> producer, KafkaLogRoute route, CancellationToken cancellationToken)
    {
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        try
        {
            var metadata = await BrokerWait.FirstMetadataAsync(admin, route, _producerConfig.BootstrapServers, _options.BrokerTimeout, _logger, _time, cancellationToken);
            await WaitForTopicAsync(admin, metadata, cancellationToken);
            try
            {
                var configs = await new TopicProvisioner(admin, _logger, _time).ConfigsAsync(_options.Topic, cancellationToken);
                return (true, TopicProvisioner.MaxMessageBytes(configs));
            }
            catch (KafkaException e)
            {
                LogTopicConfigsUnknown(_logger, _options.Topic, e.Error.Reason);
                return (true, null);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return (false, null);
        }
    }

    private async Task WaitForTopicAsync(IAdminClient admin, Confluent.Kafka.Metadata metadata, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var saidSo = false;
        while (!HasTopic(metadata, _options.Topic))
        {
            if (_time.GetElapsedTime(started) >= _options.TopicWait)
            {
                throw new ProducerFailedException(
                    $"topic {_options.Topic} does not exist (waited {_options.TopicWait.TotalSeconds:0.#} s for it at {_producerConfig.BootstrapServers}): " +
                    "create it, or check --topic; the producer never creates a topic");
            }

            if (!saidSo)
            {
                LogWaitingForTopic(_logger, _options.Topic, _options.TopicWait.TotalSeconds);
                saidSo = true;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken);
            try
            {
                // All topics, as at start: asking for one by name lets a broker with auto-creation create it.
                metadata = await BlockingCall.RunAsync(() => admin.GetMetadata(TimeSpan.FromSeconds(5)), CancellationToken.None);
            }
            catch (KafkaException)
            {
                // No answer this time: asked again in a second, within the same bound.
            }
        }
    }

    /// <summary>Listed with partitions: a topic this principal may not describe is not listed at all.</summary>
    private static bool HasTopic(Confluent.Kafka.Metadata metadata, string topic) =>
        metadata.Topics.Any(t => t.Topic == topic && !t.Error.IsError && t.Partitions.Count > 0);

    /// <returns>False when cancelled first.</returns>
    /// <exception cref="ProducerFailedException">The registry refused the schema, or did not answer within <see cref="ProducerOptions.RegistryWait"/>.</exception>
    private async Task<bool> RegisterSchemaAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var registering = _serializer.GetSchemaIdAsync(_options.Topic);
            try
            {
                // A stop does not wait for the registry: one that accepts connections and never answers would
                // hold it for the client's timeout and retries (SchemaRegistry:RequestTimeoutMs, any length).
                var id = await AnswerAsync(registering, started, cancellationToken);
                LogSchemaRegistered(_logger, OrderSerializer.SubjectFor(_options.Topic), id);
                return true;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Left to end on its own; its failure, if any, observed here.
                AbandonedTask.Observe(registering);
                return false;
            }
            catch (SchemaRegistryException e) when ((int)e.Status < 500 && e.Status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout))
            {
                // 409 (incompatible), 422 (invalid), 401/403 (credentials): waiting cannot help. A registry that
                // limits its rate (429) or timed the request out (408) is waited for, as one that is away.
                var why = e.Status == HttpStatusCode.Conflict ? "is incompatible with the subject's existing versions" : "was refused";
                throw new ProducerFailedException($"the Order schema {why} (subject {OrderSerializer.SubjectFor(_options.Topic)}): {SchemaRegistryErrors.Describe(e)}", e);
            }
            catch (Exception e) when (e is SchemaRegistryException or HttpRequestException or TaskCanceledException or TimeoutException)
            {
                // Serialization needs the schema id; while the registry is away, wait rather than drop orders, within a bound.
                var error = e is SchemaRegistryException answer ? SchemaRegistryErrors.Describe(answer) : e.Message;
                if (_time.GetElapsedTime(started) + backoff > _options.RegistryWait)
                {
                    throw new ProducerFailedException(
                        $"the Schema Registry did not register the Order schema within {_options.RegistryWait.TotalSeconds:0.#} s (subject {OrderSerializer.SubjectFor(_options.Topic)}): {error}; " +
                        "check --schema-registry (SchemaRegistry:Url) and that the registry is up",
                        e);
                }

                LogRegistryUnavailable(_logger, backoff.TotalMilliseconds, error);
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return false;
                }

                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    /// <summary>
    /// The registration's answer, waited for within what is left of <see cref="ProducerOptions.RegistryWait"/>: one
    /// attempt of the client (its timeout times its retries) could outlast it. A slow answer is said once.
    /// </summary>
    /// <exception cref="TimeoutException">No answer within the wait (the registration is left to end on its own).</exception>
    private async Task<int> AnswerAsync(Task<int> registering, long started, CancellationToken cancellationToken)
    {
        var said = false;
        while (true)
        {
            var left = _options.RegistryWait - _time.GetElapsedTime(started);
            var step = left < SlowRegistry ? left : SlowRegistry;
            try
            {
                return await registering.WaitAsync(step > TimeSpan.Zero ? step : TimeSpan.Zero, _time, cancellationToken);
            }
            catch (TimeoutException) when (!registering.IsCompleted)
            {
                if (step >= left)
                {
                    AbandonedTask.Observe(registering);
                    throw new TimeoutException($"no answer in {_time.GetElapsedTime(started).TotalSeconds:0.#} s");
                }

                if (!said)
                {
                    LogRegistrySlow(_logger, SlowRegistry.TotalSeconds, _options.RegistryWait.TotalSeconds);
                    said = true;
                }
            }
        }
    }

    private async Task ProduceAllAsync(IProducer<SentOrder, byte[]> producer, CancellationToken cancellationToken)
    {
        var generator = new OrderGenerator(new Random(_options.Seed), _time, _options.InvalidRatio);
        var schedule = new ProductionSchedule(_options.Rate, _options.Count, _options.Duration);
        var target = new TopicPartition(_options.Topic, Partition.Any);
        var schemaId = await _serializer.GetSchemaIdAsync(_options.Topic);

        // As fast as the client takes them: generated and serialized ahead, on another thread. At a
        // rate: each order made when it is due, so that its createdAt is its send time.
        await using var ahead = _options.Rate is null
            ? new OrdersAhead(generator, schemaId, _options.Count, _options.LogEachOrder, cancellationToken)
            : null;

        // Confluent.Kafka copies what it needs from the message during Produce, so one instance serves all;
        // one empty header list too (it would make one per message), which nothing adds to: a traced
        // send, with its traceparent header, has a list of its own.
        var untraced = new Headers();
        var message = new Message<SentOrder, byte[]> { Key = default, Value = [], Headers = untraced };
        var start = _producingSince = _time.GetTimestamp();
        long sent = 0;
        try
        {
            // Unpaced and unbounded in time (--count alone), no clock read per order: it was 2 % of this thread.
            var clocked = schedule.UsesElapsed;
            while (!cancellationToken.IsCancellationRequested
                && schedule.WaitBeforeNext(sent, clocked ? _time.GetElapsedTime(start) : TimeSpan.Zero) is { } wait)
            {
                if (wait > TimeSpan.Zero)
                {
                    // Asked again after it: a long wait comes in steps (ProductionSchedule.LongestWait), and the run may be over by then.
                    await Task.Delay(wait, _time, cancellationToken);
                    continue;
                }

                ReadyOrder ready;
                if (ahead is null)
                {
                    ready = ReadyOrder.Next(generator, schemaId, _options.LogEachOrder);
                }
                else if (!ahead.TryTake(out ready) && !(await ahead.NextBatchAsync(cancellationToken) && ahead.TryTake(out ready)))
                {
                    break;
                }

                message.Key = ready.Key;
                message.Value = ready.Value;
                // Tracing on: the order's trace context (of its send span, or of a trace not sampled).
                var span = ProducerTracing.StartSend(_options.Topic, ready.Key, out var traced);
                message.Headers = traced ?? untraced;
                if (span is not null)
                {
                    message.Key = ready.Key with { Span = span };
                }

                if (!Produce(producer, target, message, cancellationToken))
                {
                    // Stopped while the client's queue was full (a broker away): this order was never handed over.
                    if (span is not null)
                    {
                        ProducerTracing.Delivered(span, new Error(ErrorCode.Local_QueueFull, "not sent: stopped while the client's queue was full"), new TopicPartitionOffset(target, Offset.Unset));
                    }

                    break;
                }

                sent = Interlocked.Increment(ref _sent);

                if (ready.Order is { } logged)
                {
                    LogOrderSent(_logger, logged.OrderId, logged.Product, logged.Price, logged.Quantity, ready.Key.Valid);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ProduceException<SentOrder, byte[]> e)
        {
            // The client refused an order (the topic deleted meanwhile, a fatal state): what was sent before
            // it is still drained and counted, then the run ends with this error.
            _sendError = $"sending failed: {e.Error.Reason}";
        }
    }

    /// <returns>False when cancelled while the client's queue was full: the order was not handed over.</returns>
    private bool Produce(IProducer<SentOrder, byte[]> producer, TopicPartition target, Message<SentOrder, byte[]> message, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                producer.Produce(target, message, _onDelivery);
                return true;
            }
            catch (ProduceException<SentOrder, byte[]> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                // The client's queue is full (its broker away, or slower than the orders): let deliveries
                // drain it, then hand the same order over again, unless the run is stopping meanwhile.
                if (cancellationToken.IsCancellationRequested)
                {
                    return false;
                }

                producer.Poll(TimeSpan.FromMilliseconds(10));
            }
        }
    }


    /// <summary>
    /// Waits until everything in flight is acknowledged or failed (the client's message.timeout.ms
    /// bounds that); once cancelled, for at most the drain timeout, so that Ctrl+C always ends the run.
    /// </summary>
    private void Drain(IProducer<SentOrder, byte[]> producer, CancellationToken cancellationToken)
    {
        long? cancelledAt = null;
        var lastLog = _time.GetTimestamp();
        while (producer.Flush(TimeSpan.FromMilliseconds(200)) is var inFlight and > 0)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                cancelledAt ??= _time.GetTimestamp();
            }

            if (_fatalError is not null || (cancelledAt is { } at && _time.GetElapsedTime(at) >= _options.DrainTimeout))
            {
                LogGaveUpDraining(_logger, inFlight, _options.DrainTimeout.TotalSeconds);
                return;
            }

            if (_time.GetElapsedTime(lastLog) >= TimeSpan.FromSeconds(5))
            {
                LogFlushing(_logger, inFlight);
                lastLog = _time.GetTimestamp();
            }
        }
    }

    private void OnDelivery(DeliveryReport<SentOrder, byte[]> report)
    {
        var sent = report.Message.Key;
        if (sent.Span is { } span)
        {
            ProducerTracing.Delivered(span, report.Error, report.TopicPartitionOffset);
        }

        if (report.Error.IsError)
        {
            // Sent, and no answer came (a timeout in flight): the broker may have written it all the same.
            // Counted apart, so that what the topic holds is known to lie between the acknowledged orders
            // and the acknowledged plus these.
            var reason = report.Error.Reason;
            if (report.Status == PersistenceStatus.PossiblyPersisted)
            {
                Interlocked.Increment(ref _possiblyPersisted);
                if (sent.Valid)
                {
                    _validPossiblyPersisted.Add(sent.Currency, sent.Price, sent.Quantity);
                }

                reason += " (possibly written all the same)";
            }

            Interlocked.Increment(ref _failed);
            if (_failureLog?.ShouldLog(reason, reason) != false)
            {
                LogDeliveryFailed(_logger, sent.OrderId, reason);
            }

            return;
        }

        Interlocked.Increment(ref _produced);

        // Valid by the processor's own rule, so that both sides count the same orders: whether it is valid is
        // the generator's word, whose flag agrees with OrderValidator (tested), so no order is validated again.
        if (sent.Valid)
        {
            _valid.Add(sent.Currency, sent.Price, sent.Quantity);
        }
        else
        {
            // Among the acknowledged, as valid is: what the processor dead-letters as invalid.
            Interlocked.Increment(ref _invalid);
        }
    }

    /// <summary>After the route logged it: a fatal error (idempotence broken, fenced) ends the run.</summary>
    private void OnError(IProducer<SentOrder, byte[]> producer, Error error)
    {
        if (error.IsFatal)
        {
            _fatalError ??= $"fatal Kafka producer error {error.Code}: {error.Reason}";
            _fatal.Cancel();
        }
    }

    [LoggerMessage(2, LogLevel.Error, "Delivery of order {OrderId} failed: {Reason}")]
    private static partial void LogDeliveryFailed(ILogger logger, string orderId, string reason);

    [LoggerMessage(9, LogLevel.Error, "Delivery of {Count} more orders failed in the last {Seconds} s: {Reason}")]
    private static partial void LogDeliveriesFailed(ILogger logger, int count, double seconds, string reason);

    [LoggerMessage(3, LogLevel.Warning, "Schema registry unavailable; retrying in {DelayMs} ms: {Error}")]
    private static partial void LogRegistryUnavailable(ILogger logger, double delayMs, string error);

    [LoggerMessage(11, LogLevel.Information, "Topic {Topic} takes record batches of at most {MaxMessageBytes} bytes (max.message.bytes): batch.size is {BatchSize}")]
    private static partial void LogBatchSize(ILogger logger, string topic, int maxMessageBytes, int batchSize);

    [LoggerMessage(12, LogLevel.Warning, "The configs of topic {Topic} could not be read ({Reason}): batches are not fitted to its max.message.bytes; set Kafka:batch.size below it if it is under 1,000,000")]
    private static partial void LogTopicConfigsUnknown(ILogger logger, string topic, string reason);

    [LoggerMessage(10, LogLevel.Warning, "Schema registry has not answered for {Seconds} s; waiting for it for up to {WaitSeconds} s in all (Producer:RegistryWait)")]
    private static partial void LogRegistrySlow(ILogger logger, double seconds, double waitSeconds);

    [LoggerMessage(4, LogLevel.Information, "Flushing: {Count} orders still in flight")]
    private static partial void LogFlushing(ILogger logger, int count);

    [LoggerMessage(5, LogLevel.Warning, "Stopped waiting for {Count} orders in flight after {Seconds} s; their delivery is unknown")]
    private static partial void LogGaveUpDraining(ILogger logger, int count, double seconds);

    [LoggerMessage(6, LogLevel.Warning, "Waiting for topic {Topic} to be created (for up to {Seconds} s): the producer never creates a topic")]
    private static partial void LogWaitingForTopic(ILogger logger, string topic, double seconds);

    [LoggerMessage(7, LogLevel.Information, "Schema of subject {Subject} has id {SchemaId}")]
    private static partial void LogSchemaRegistered(ILogger logger, string subject, int schemaId);

    [LoggerMessage(8, LogLevel.Information, "Sent order {OrderId}: {Product} at {Price} x {Quantity} (valid: {Valid})")]
    private static partial void LogOrderSent(ILogger logger, string orderId, string product, double price, int quantity, bool valid);
}
