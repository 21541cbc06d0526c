using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Processor.Loop;

/// <summary>
/// The Kafka clients of one run: the group consumer, the producer of dead letters and checkpoints,
/// and the range readers that restores read through (no group): one, and a spare built when first asked for. Their logs go to the host's
/// logging, repeated errors summarised; fatal client errors, from librdkafka's threads, to the
/// <see cref="FatalSignal"/>; the consumer's statistics to <see cref="ProcessorStatus.Statistics"/>.
/// Disposing it destroys the clients, except a consumer whose close was abandoned (destroying it
/// would wait on that close): the session itself sees whether its consumer's close returned.
/// </summary>
public sealed class KafkaSession : IDisposable
{
    private readonly KafkaLogRoute _producerLog;
    private readonly KafkaLogRoute _consumerLog;
    private readonly IProducer<byte[]?, byte[]?> _producer;
    private readonly IConsumer<byte[]?, byte[]?> _consumer;
    private readonly ConsumerConfig _readerConfig;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Lock _spareLock = new();
    private PartitionRangeReader? _spareReader;
    private bool _disposed;
    private IRebalanceListener? _listener;
    private volatile bool _closeStarted;
    private volatile bool _closed;

    /// <param name="fetchAhead">Records polled ahead on a thread of their own (<see cref="FetchAheadConsumer"/>); 0: the loop polls.</param>
    /// <param name="closeTimeout">How long closing waits for the polling thread.</param>
    public KafkaSession(
        ConsumerConfig consumerConfig, ProducerConfig producerConfig, ProcessorStatus status, FatalSignal fatal, int fetchAhead, TimeSpan closeTimeout, TimeProvider time, ILogger logger)
    {
        // One route per client: repeated identical errors are logged once, then counted.
        (_readerConfig, _logger, _time) = (consumerConfig, logger, time);
        _producerLog = new KafkaLogRoute(logger, time);
        _consumerLog = new KafkaLogRoute(logger, time);
        _producer = new ProducerBuilder<byte[]?, byte[]?>(producerConfig)
            .LogTo(_producerLog)
            .LogErrorsTo(_producerLog, (_, e) => OnError(fatal, e))
            .BuildChecked();
        try
        {
            _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig(new Dictionary<string, string>(consumerConfig)) { ConsumeResultFields = ProcessorClientConfig.RecordFields })
                .LogTo(_consumerLog)
                .LogErrorsTo(_consumerLog, (_, e) => OnError(fatal, e))
                .SetStatisticsHandler((_, json) => status.Statistics.Update(json))
                .SetPartitionsAssignedHandler((_, partitions) => Listener.OnAssigned(partitions))
                .SetPartitionsRevokedHandler((_, partitions) => Listener.OnRevoked([.. partitions.Select(p => p.TopicPartition)]))
                .SetPartitionsLostHandler((_, partitions) => Listener.OnLost([.. partitions.Select(p => p.TopicPartition)]))
                .BuildChecked();
            Reader = new PartitionRangeReader(consumerConfig, logger, time);
        }
        catch
        {
            // A bad consumer setting: the clients built so far go with the error.
            _consumer?.Dispose();
            _producer.Dispose();
            _producerLog.Dispose();
            _consumerLog.Dispose();
            throw;
        }

        Consumer = fetchAhead > 0 ? new FetchAheadConsumer(new ConsumerPort(this), fetchAhead, closeTimeout, logger) : new ConsumerPort(this);
        Producer = new ProducerPort(_producer);
    }

    public IConsumerPort Consumer { get; }

    public IProducerPort Producer { get; }

    /// <summary>Reads partitions without a group (checkpoints, dead letters, watermarks).</summary>
    public PartitionRangeReader Reader { get; }

    /// <summary>
    /// A second reader (a client of its own), built when first asked for, on the thread that asks: for reads
    /// while <see cref="Reader"/> is in use. Its connections cost nothing until then.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The session has ended.</exception>
    public PartitionRangeReader SpareReader
    {
        get
        {
            lock (_spareLock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return _spareReader ??= new PartitionRangeReader(_readerConfig, _logger, _time);
            }
        }
    }

    private IRebalanceListener Listener => _listener ?? throw new InvalidOperationException("A rebalance callback came before Subscribe.");

    public void Dispose()
    {
        // A close that was abandoned (it outlived Processor:CloseTimeout) still runs: destroying the
        // consumer would wait on it. So would a polling thread that did not leave its poll. The process's end takes it.
        var polling = Consumer is FetchAheadConsumer ahead && !ahead.TryStop();
        if ((!_closeStarted || _closed) && !polling)
        {
            _consumer.Dispose();
        }

        _producer.Dispose();
        PartitionRangeReader? spare;
        lock (_spareLock)
        {
            _disposed = true;
            spare = _spareReader;
        }

        // Each waits up to 2 s for a read under way on another thread: side by side, not one after the other.
        var closingSpare = spare is null ? Task.CompletedTask : Task.Run(spare.Dispose);
        Reader.Dispose();
        closingSpare.Wait();
        _producerLog.Flush();
        _consumerLog.Flush();
        _producerLog.Dispose();
        _consumerLog.Dispose();
    }

    private static void OnError(FatalSignal fatal, Error error)
    {
        if (error.IsFatal)
        {
            fatal.Set(new KafkaException(error));
        }
    }

    private sealed class ConsumerPort : IConsumerPort
    {
        private readonly KafkaSession _session;
        private readonly IConsumer<byte[]?, byte[]?> _consumer;
        private readonly DeferredSeeks _seeks;
        private string? _topic;

        public ConsumerPort(KafkaSession session)
        {
            (_session, _consumer) = (session, session._consumer);
            _seeks = new DeferredSeeks(
                _consumer.Seek,
                partition => _consumer.Assignment.Contains(partition),
                offset => Log.SeekDeferred(session._logger, offset.Topic, offset.Partition.Value, offset.Offset.Value));
        }

        public IReadOnlyList<TopicPartition> Assignment => _consumer.Assignment;

        public void Subscribe(string topic, IRebalanceListener listener)
        {
            _session._listener = listener;
            _topic = topic;
            _consumer.Subscribe(topic);
        }

        /// <remarks>The client leaves a record's topic out (<see cref="ProcessorClientConfig.RecordFields"/>): it is the one subscribed to.</remarks>
        public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout)
        {
            _seeks.Retry();
            var record = _consumer.Consume(timeout);
            if (record is not null)
            {
                record.Topic = _topic;
                if (!_seeks.Admit(record))
                {
                    return null;
                }
            }

            return record;
        }

        public void Pause(IEnumerable<TopicPartition> partitions) => _consumer.Pause(partitions);

        public void Resume(IEnumerable<TopicPartition> partitions) => _consumer.Resume(partitions);

        /// <remarks>A seek refused because the client has not started the partition yet is kept and made later (<see cref="DeferredSeeks"/>).</remarks>
        public void Seek(TopicPartitionOffset offset) => _seeks.Seek(offset);

        public void StoreOffset(TopicPartitionOffset offset) => _consumer.StoreOffset(offset);

        public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout) => _consumer.QueryWatermarkOffsets(partition, timeout);

        public void Close()
        {
            _session._closeStarted = true;
            _consumer.Close();
            _session._closed = true;
        }
    }

    private sealed class ProducerPort(IProducer<byte[]?, byte[]?> producer) : IProducerPort
    {
        public void Produce(TopicPartition partition, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>> report) =>
            producer.Produce(partition, message, report);

        public int Flush(TimeSpan timeout) => producer.Flush(timeout);
    }
}
