using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;

namespace Orders.Processor;

public sealed record ProcessorSummary(
    long Processed,
    long Retried,
    long RegistryWaits,
    IReadOnlyDictionary<string, long> DeadLettered,
    long DeadLetterWriteFailures,
    AggregateSnapshot Aggregates,
    TimeSpan Elapsed)
{
    public long DeadLetteredTotal => DeadLettered.Values.Sum();
}

/// <summary>
/// The consume loop: consume, decode, validate, handle, aggregate, store the offset. A record's
/// offset is stored only once it was processed or its dead-letter copy acknowledged. A record that
/// must be retried pauses its partition and rewinds it to that record, so the loop keeps polling
/// (no max.poll.interval.ms breach) and the partition's order is kept; other partitions go on.
/// </summary>
public sealed class OrderProcessor
{
    private readonly ConsumerConfig _consumerConfig;
    private readonly ProducerConfig _deadLetterConfig;
    private readonly ProcessorOptions _options;
    private readonly OrderDecoder _decoder;
    private readonly IOrderHandler _handler;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RetrySchedule _retrySchedule;
    private readonly PausedPartitions _paused;
    private readonly Dictionary<string, long> _deadLettered = new(StringComparer.Ordinal)
    {
        [DeadLetterHeaders.ReasonPoison] = 0,
        [DeadLetterHeaders.ReasonInvalid] = 0,
        [DeadLetterHeaders.ReasonRetriesExhausted] = 0,
    };

    private static readonly TimeSpan MaxPollWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan FirstAssignmentWait = TimeSpan.FromSeconds(60);

    private long _processed;
    private long _retried;
    private long _registryWaits;
    private long _deadLetterWriteFailures;

    public OrderProcessor(
        ConsumerConfig consumerConfig,
        ProducerConfig deadLetterConfig,
        ProcessorOptions options,
        OrderDecoder decoder,
        IOrderHandler handler,
        TimeProvider time,
        ILogger<OrderProcessor> logger)
    {
        _options = options;
        _decoder = decoder;
        _handler = handler;
        _time = time;
        _logger = logger;
        _retrySchedule = new RetrySchedule(options.RetryBaseDelay, options.RetryMaxDelay, new Random(options.Seed));
        Aggregator = new OrderAggregator(time);
        _paused = new PausedPartitions(time, MaxPollWait);

        _consumerConfig = new ConsumerConfig(new Dictionary<string, string>(consumerConfig))
        {
            GroupId = options.GroupId,
            EnableAutoOffsetStore = false,
            EnableAutoCommit = true,
        };
        if (!string.Equals(_consumerConfig.Get("group.protocol"), "consumer", StringComparison.OrdinalIgnoreCase))
        {
            // The classic protocol, incrementally. (With KIP-848's group.protocol=consumer the broker
            // assigns, and neither setting is allowed.)
            _consumerConfig.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
            // librdkafka's 45 s default makes a crashed member hold its partitions for 45 s; and the
            // mock cluster makes any newcomer to a group wait session.timeout.ms - 1 s (measured).
            _consumerConfig.SetDefault("session.timeout.ms", "10000");
        }
        _consumerConfig.SetDefault("auto.offset.reset", "earliest");
        // A resumed partition waits for the broker's outstanding long-poll fetch to return; a short
        // wait keeps a retry's extra latency near its backoff (measured on the mock: 400 orders with 245 retries
        // took 28 s at the default 500 ms, 6 s at 50 ms). Override with Kafka:fetch.wait.max.ms.
        _consumerConfig.SetDefault("fetch.wait.max.ms", "100");

        _deadLetterConfig = new ProducerConfig(new Dictionary<string, string>(deadLetterConfig))
        {
            EnableIdempotence = true,
            Acks = Acks.All,
        };
        _deadLetterConfig.SetDefault("message.timeout.ms", "30000");
    }

    public OrderAggregator Aggregator { get; }

    public long Processed => Interlocked.Read(ref _processed);

    public long Retried => Interlocked.Read(ref _retried);

    public IReadOnlyDictionary<string, long> DeadLettered
    {
        get
        {
            lock (_deadLettered)
            {
                return new Dictionary<string, long>(_deadLettered);
            }
        }
    }

    /// <summary>Runs until cancelled (or idle for <see cref="ProcessorOptions.UntilIdle"/>); then commits and closes.</summary>
    /// <exception cref="KafkaException">A fatal client error.</exception>
    public async Task<ProcessorSummary> RunAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        Exception? fatal = null;
        var assigned = false;
        var idleSince = started;
        using var deadLetters = new ProducerBuilder<byte[]?, byte[]?>(_deadLetterConfig)
            .LogTo(_logger)
            .SetErrorHandler((_, e) => Log.KafkaError(_logger, e.Code, e.Reason))
            .BuildChecked();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(_consumerConfig)
            .LogTo(_logger)
            .SetErrorHandler((_, e) =>
            {
                Log.KafkaError(_logger, e.Code, e.Reason);
                if (e.IsFatal)
                {
                    fatal = new KafkaException(e);
                }
            })
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                Log.Assigned(_logger, Describe(partitions));
                assigned = true;
                idleSince = _time.GetTimestamp();
            })
            .SetPartitionsRevokedHandler((c, partitions) =>
            {
                Log.Revoked(_logger, Describe(partitions.Select(p => p.TopicPartition)));
                Commit(c);
                _paused.Forget(partitions.Select(p => p.TopicPartition));
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                Log.Lost(_logger, Describe(partitions.Select(p => p.TopicPartition)));
                _paused.Forget(partitions.Select(p => p.TopicPartition));
            })
            .BuildChecked();

        consumer.Subscribe(_options.Topic);
        Log.Subscribed(_logger, _options.Topic, _options.GroupId);
        var lastStatusAt = _time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested && fatal is null)
            {
                var result = consumer.Consume(ResumeDuePartitions(consumer));
                if (_time.GetElapsedTime(lastStatusAt) >= _options.StatusInterval)
                {
                    LogStatus(started);
                    lastStatusAt = _time.GetTimestamp();
                }

                if (result is null || result.IsPartitionEOF)
                {
                    if (_options.UntilIdle is { } idle && _paused.Count == 0 && IsIdle(idle, _time.GetElapsedTime(idleSince), assigned))
                    {
                        Log.Idle(_logger, idle.TotalSeconds);
                        break;
                    }

                    continue;
                }

                idleSince = _time.GetTimestamp();
                // The record in hand is finished even if shutdown was requested meanwhile.
                await ProcessAsync(consumer, deadLetters, result);
            }
        }
        finally
        {
            Commit(consumer);
            consumer.Close();
            deadLetters.Flush(TimeSpan.FromSeconds(10));
        }

        if (fatal is not null)
        {
            throw fatal;
        }

        LogStatus(started);
        return new ProcessorSummary(
            Processed, Retried, Interlocked.Read(ref _registryWaits), DeadLettered, Interlocked.Read(ref _deadLetterWriteFailures), Aggregator.Snapshot(), _time.GetElapsedTime(started));
    }

    /// <summary>
    /// Idle means no record for <paramref name="idle"/> since the last record or assignment; before the
    /// first assignment the processor waits at least <see cref="FirstAssignmentWait"/>, as joining a group
    /// can take a while (a rebalance; on the mock cluster, session.timeout.ms).
    /// </summary>
    private static bool IsIdle(TimeSpan idle, TimeSpan quietFor, bool assigned) =>
        quietFor >= (assigned || idle >= FirstAssignmentWait ? idle : FirstAssignmentWait);

    private async Task ProcessAsync(IConsumer<byte[]?, byte[]?> consumer, IProducer<byte[]?, byte[]?> deadLetters, ConsumeResult<byte[]?, byte[]?> record)
    {
        var (failures, registryWaits) = _paused.History(record.TopicPartitionOffset);
        var attempt = failures + 1;
        try
        {
            var order = await _decoder.DecodeAsync(record.Message.Value);
            if (OrderValidator.Validate(order) is { } problem)
            {
                throw new InvalidOrderException(problem);
            }

            await _handler.HandleAsync(order, CancellationToken.None);
            Aggregator.Record(record.Partition.Value, order);
            Interlocked.Increment(ref _processed);
            Done(consumer, record);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            var kind = FailureClassifier.Classify(error);
            switch (kind)
            {
                case FailureKind.RegistryUnavailable:
                    // Not the record's fault: wait for the registry however long it takes; attempts are not spent.
                    Interlocked.Increment(ref _registryWaits);
                    var waits = registryWaits + 1;
                    var wait = _retrySchedule.DelayAfter(waits);
                    Log.RegistryUnavailable(_logger, record.Topic, record.Partition.Value, (long)wait.TotalMilliseconds, error.Message);
                    Rewind(consumer, record, failures, wait, waits);
                    break;
                case FailureKind.Transient when attempt < _options.MaxAttempts:
                    Interlocked.Increment(ref _retried);
                    var delay = _retrySchedule.DelayAfter(attempt);
                    Log.Retrying(_logger, record.Topic, record.Partition.Value, record.Offset.Value, (long)delay.TotalMilliseconds, attempt, error.Message);
                    Rewind(consumer, record, attempt, delay, registryWaits: 0);
                    break;
                default:
                    await DeadLetterAsync(consumer, deadLetters, record, kind, error, attempt, failures);
                    break;
            }
        }
    }

    private async Task DeadLetterAsync(
        IConsumer<byte[]?, byte[]?> consumer,
        IProducer<byte[]?, byte[]?> deadLetters,
        ConsumeResult<byte[]?, byte[]?> record,
        FailureKind kind,
        Exception error,
        int attempt,
        int failures)
    {
        var reason = DeadLetterMessages.ReasonFor(kind);
        var message = DeadLetterMessages.Build(record, _options.GroupId, reason, error, attempt, _time.GetUtcNow());
        try
        {
            await deadLetters.ProduceAsync(_options.DeadLetterTopic, message);
        }
        catch (Exception dlqError) when (dlqError is KafkaException or ProduceException<byte[]?, byte[]?>)
        {
            // Without an acknowledged copy the offset must not move: rewind and try the record again later.
            Interlocked.Increment(ref _deadLetterWriteFailures);
            Log.DeadLetterFailed(_logger, record.Topic, record.Partition.Value, record.Offset.Value, dlqError.Message);
            Rewind(consumer, record, failures, _retrySchedule.MaxDelay, registryWaits: 0);
            return;
        }

        lock (_deadLettered)
        {
            _deadLettered[reason]++;
        }

        Log.DeadLettered(_logger, record.Topic, record.Partition.Value, record.Offset.Value, reason, error.Message);
        Done(consumer, record);
    }

    private void Done(IConsumer<byte[]?, byte[]?> consumer, ConsumeResult<byte[]?, byte[]?> record)
    {
        _paused.Clear(record.TopicPartition);
        consumer.StoreOffset(record);
    }

    private void Rewind(IConsumer<byte[]?, byte[]?> consumer, ConsumeResult<byte[]?, byte[]?> record, int failures, TimeSpan delay, int registryWaits)
    {
        _paused.Pause(record.TopicPartitionOffset, failures, registryWaits, delay);
        consumer.Pause([record.TopicPartition]);
        consumer.Seek(record.TopicPartitionOffset);
    }

    /// <summary>Resumes the partitions whose backoff has passed.</summary>
    /// <returns>How long the next poll may block: until the next backoff ends, at most <see cref="MaxPollWait"/>.</returns>
    private TimeSpan ResumeDuePartitions(IConsumer<byte[]?, byte[]?> consumer)
    {
        var due = _paused.TakeDue(out var wait);
        if (due.Count > 0)
        {
            consumer.Resume(due);
        }

        return wait;
    }

    private void Commit(IConsumer<byte[]?, byte[]?> consumer)
    {
        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException e)
        {
            Log.CommitFailed(_logger, e.Error.Reason);
        }
    }

    private void LogStatus(long started)
    {
        var snapshot = Aggregator.Snapshot();
        var seconds = Math.Max(_time.GetElapsedTime(started).TotalSeconds, 0.001);
        Log.Status(
            _logger,
            Processed,
            Retried,
            DeadLettered.Values.Sum(),
            Format(snapshot.Overall.Mean),
            Format(snapshot.LastMinute.Mean),
            (Processed / seconds).ToString("F1", CultureInfo.InvariantCulture));
    }

    private static string Format(double? value) => value?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a";

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]"));
}
