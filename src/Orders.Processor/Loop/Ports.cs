using Confluent.Kafka;

namespace Orders.Processor.Loop;

/// <summary>
/// The consumer as the loop's pieces see it: the calls of Confluent's <see cref="IConsumer{TKey,TValue}"/>
/// that they make, and no more, so that each piece is tested with a fake and a fake clock.
/// <see cref="KafkaSession"/> adapts the real consumer. The loop makes every call on its thread;
/// <see cref="FetchAheadConsumer"/>, which wraps the real one, polls it on a thread of its own.
/// </summary>
public interface IConsumerPort
{
    /// <summary>Subscribes; the listener's callbacks then run inside <see cref="Consume"/>, on the loop's thread (<see cref="FetchAheadConsumer"/> brings them there).</summary>
    void Subscribe(string topic, IRebalanceListener listener);

    /// <returns>The next record, or null when none came within <paramref name="timeout"/>.</returns>
    /// <exception cref="ConsumeException">A consume error (fatal or not: see <see cref="Error.IsFatal"/>).</exception>
    ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout);

    void Pause(IEnumerable<TopicPartition> partitions);

    /// <exception cref="KafkaException">A partition is not assigned (any more).</exception>
    void Resume(IEnumerable<TopicPartition> partitions);

    /// <summary>Fetched records at or after the offset are discarded; the next fetch starts there.</summary>
    void Seek(TopicPartitionOffset offset);

    /// <summary>Stores the offset to commit (librdkafka commits stored offsets in the background).</summary>
    /// <exception cref="KafkaException">The partition is not assigned (any more).</exception>
    void StoreOffset(TopicPartitionOffset offset);

    /// <summary>Asks the broker (not the client's cache) for the partition's low and high watermarks.</summary>
    /// <exception cref="KafkaException">No answer in time.</exception>
    WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout);

    IReadOnlyList<TopicPartition> Assignment { get; }

    /// <summary>Leaves the group, committing stored offsets; may block (see <see cref="KafkaSession.CloseConsumer"/>).</summary>
    void Close();
}

/// <summary>The rebalance callbacks, called by the consumer inside <see cref="IConsumerPort.Consume"/>.</summary>
public interface IRebalanceListener
{
    /// <returns>Where each assigned partition starts (<see cref="Offset.Beginning"/>: not known yet, it is paused until restored, then seeks; <see cref="Offset.Unset"/>: nowhere, the processor is leaving).</returns>
    IEnumerable<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions);

    void OnRevoked(IReadOnlyList<TopicPartition> partitions);

    void OnLost(IReadOnlyList<TopicPartition> partitions);
}

/// <summary>The producer as the dead-letter and checkpoint writers see it.</summary>
public interface IProducerPort
{
    /// <summary>Queues a record; the report comes later, on librdkafka's thread.</summary>
    /// <exception cref="ProduceException{TKey,TValue}">Refused before it left the process (too large, queue full...).</exception>
    /// <exception cref="KafkaException">Likewise.</exception>
    void Produce(TopicPartition partition, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>> report);

    /// <summary>Waits at most <paramref name="timeout"/> for queued records to be delivered (their reports to run).</summary>
    /// <returns>The records still queued or in flight.</returns>
    int Flush(TimeSpan timeout);
}
