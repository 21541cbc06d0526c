using Confluent.Kafka;

namespace Orders.Processor.Loop;

/// <summary>
/// Seeks the client refused because the partition's fetcher has not started (librdkafka's ERR__STATE,
/// "Local: Erroneous state"). librdkafka starts a newly assigned partition only once no offset commit is
/// outstanding: with the coordinator slow or away, a restore can end, and seek, before that. The seek is
/// kept and tried again before each poll, and at once when a record of the partition comes (the fetcher
/// has started): such a record, fetched from where the assignment put it, is dropped, never returned.
/// A refused seek of a partition no longer assigned is dropped: nothing is fetched for it.
/// </summary>
/// <remarks>Used by one thread at a time: the one that polls, or the loop's while the poller waits in a callback.</remarks>
internal sealed class DeferredSeeks(Action<TopicPartitionOffset> seek, Func<TopicPartition, bool> assigned, Action<TopicPartitionOffset> deferred)
{
    private readonly Dictionary<TopicPartition, Offset> _pending = [];

    public int Count => _pending.Count;

    public void Seek(TopicPartitionOffset offset)
    {
        // A later seek replaces one still waiting: the position asked last is the one that holds.
        _pending.Remove(offset.TopicPartition);
        if (!TrySeek(offset))
        {
            _pending[offset.TopicPartition] = offset.Offset;
            deferred(offset);
        }
    }

    /// <summary>Tries the waiting seeks again; those taken, or of partitions no longer assigned, are done.</summary>
    public void Retry()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        foreach (var (partition, offset) in _pending.ToList())
        {
            if (TrySeek(new TopicPartitionOffset(partition, offset)))
            {
                _pending.Remove(partition);
            }
        }
    }

    /// <returns>False when the record's partition has a seek waiting: the record came from before it, and is dropped (the seek is tried again now).</returns>
    public bool Admit(ConsumeResult<byte[]?, byte[]?> record)
    {
        if (_pending.Count == 0 || !_pending.TryGetValue(record.TopicPartition, out var offset))
        {
            return true;
        }

        if (TrySeek(new TopicPartitionOffset(record.TopicPartition, offset)))
        {
            _pending.Remove(record.TopicPartition);
        }

        return false;
    }

    /// <returns>True when the seek is done with: taken, or refused for a partition no longer assigned.</returns>
    private bool TrySeek(TopicPartitionOffset offset)
    {
        try
        {
            seek(offset);
            return true;
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_State)
        {
            return !assigned(offset.TopicPartition);
        }
    }
}
