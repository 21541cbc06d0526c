using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// The consumer port over in-memory partitions of one topic, the way librdkafka behaves where the
/// loop depends on it: rebalance callbacks run inside <see cref="Consume"/>; a poll that finds
/// nothing waits its timeout (on the fake clock); paused partitions deliver nothing; a seek moves
/// the fetch position; a position below the partition's start (retention) resets to the start;
/// <see cref="Close"/> revokes what is assigned; storing the offset of a partition not assigned throws.
/// </summary>
public sealed class FakeConsumer(FakeTimeProvider time, string topic) : IConsumerPort
{
    private readonly Dictionary<int, List<Message<byte[]?, byte[]?>>> _logs = [];
    private readonly Dictionary<int, long> _low = [];
    private readonly Dictionary<int, long> _position = [];
    private readonly HashSet<int> _assigned = [];
    private readonly HashSet<int> _paused = [];
    private readonly Queue<Action> _rebalances = new();
    private IRebalanceListener? _listener;
    private int _next;

    public string Topic => topic;

    /// <summary>Offsets stored for commit, newest per partition.</summary>
    public Dictionary<int, long> Stored { get; } = [];

    public List<TopicPartitionOffset> Seeks { get; } = [];

    /// <summary>What the assigned callback answered, per partition, last time.</summary>
    public Dictionary<int, Offset> AssignedAt { get; } = [];

    /// <summary>A close that blocks until set (a group that does not let go).</summary>
    public ManualResetEventSlim? CloseBlocks { get; set; }

    public bool Closed { get; private set; }

    public int WatermarkQueries { get; private set; }

    /// <summary>The broker's answer to a watermark query; null: the partition's real start and end.</summary>
    public Func<int, WatermarkOffsets>? WatermarkAnswer { get; set; }

    public IReadOnlyList<TopicPartition> Assignment => [.. _assigned.Order().Select(p => new TopicPartition(topic, p))];

    public bool IsPaused(int partition) => _paused.Contains(partition);

    public bool IsAssigned(int partition) => _assigned.Contains(partition);

    public long Position(int partition) => _position.GetValueOrDefault(partition);

    /// <summary>Appends records to a partition; returns the offset of the first.</summary>
    public long Append(int partition, params Message<byte[]?, byte[]?>[] messages)
    {
        var log = Log(partition);
        var first = log.Count;
        log.AddRange(messages);
        return first;
    }

    /// <summary>Retention deletes the partition's records before <paramref name="offset"/>.</summary>
    public void DeleteBefore(int partition, long offset) => _low[partition] = offset;

    public long End(int partition) => Log(partition).Count;

    /// <summary>The partition's records, from its start (as another processor would read them).</summary>
    public IReadOnlyList<Message<byte[]?, byte[]?>> Records(int partition) => Log(partition);

    /// <summary>The group assigns these partitions; the callback runs in the next poll.</summary>
    public void Assign(params int[] partitions) => _rebalances.Enqueue(() =>
    {
        var added = partitions.Select(p => new TopicPartition(topic, p)).ToList();
        foreach (var p in partitions)
        {
            _assigned.Add(p);
        }

        foreach (var offset in _listener!.OnAssigned(added))
        {
            AssignedAt[offset.Partition.Value] = offset.Offset;
            if (offset.Offset != Offset.Unset)
            {
                // At the beginning: the partition's start (its low watermark applies when it is read).
                _position[offset.Partition.Value] = offset.Offset == Offset.Beginning ? 0 : offset.Offset.Value;
            }
        }
    });

    /// <summary>The group takes these partitions back in an orderly rebalance; the callback runs in the next poll.</summary>
    public void Revoke(params int[] partitions) => _rebalances.Enqueue(() =>
    {
        _listener!.OnRevoked([.. partitions.Select(p => new TopicPartition(topic, p))]);
        Unassign(partitions);
    });

    /// <summary>The partitions are lost (session timeout); the callback runs in the next poll.</summary>
    public void Lose(params int[] partitions) => _rebalances.Enqueue(() =>
    {
        _listener!.OnLost([.. partitions.Select(p => new TopicPartition(topic, p))]);
        Unassign(partitions);
    });

    public void Subscribe(string subscribed, IRebalanceListener listener)
    {
        Assert.Equal(topic, subscribed);
        _listener = listener;
    }

    /// <summary>The next polls throw these, one each.</summary>
    public Queue<ConsumeException> Errors { get; } = new();

    /// <summary>Runs at the start of every poll, on the loop's thread (tests act between two polls with it).</summary>
    public Action? BeforePoll { get; set; }

    public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout)
    {
        BeforePoll?.Invoke();
        if (Errors.TryDequeue(out var error))
        {
            throw error;
        }

        while (_rebalances.TryDequeue(out var rebalance))
        {
            rebalance();
        }

        var candidates = _assigned.Order().ToList();
        for (var i = 0; i < candidates.Count; i++)
        {
            var partition = candidates[(_next + i) % candidates.Count];
            if (_paused.Contains(partition) || !_position.ContainsKey(partition))
            {
                continue;
            }

            var low = _low.GetValueOrDefault(partition);
            var position = Math.Max(_position[partition], low);
            if (position >= Log(partition).Count)
            {
                continue;
            }

            _next = (_next + i + 1) % candidates.Count;
            _position[partition] = position + 1;
            return new ConsumeResult<byte[]?, byte[]?>
            {
                TopicPartitionOffset = new TopicPartitionOffset(topic, partition, position),
                Message = Log(partition)[(int)position],
            };
        }

        time.Advance(timeout);
        return null;
    }

    public void Pause(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions)
        {
            _paused.Add(p.Partition.Value);
        }
    }

    public void Resume(IEnumerable<TopicPartition> partitions)
    {
        foreach (var p in partitions)
        {
            if (!_assigned.Contains(p.Partition.Value))
            {
                throw new KafkaException(ErrorCode.Local_State);
            }

            _paused.Remove(p.Partition.Value);
        }
    }

    public void Seek(TopicPartitionOffset offset)
    {
        Seeks.Add(offset);
        _position[offset.Partition.Value] = offset.Offset.Value;
    }

    public void StoreOffset(TopicPartitionOffset offset)
    {
        if (!_assigned.Contains(offset.Partition.Value))
        {
            throw new KafkaException(ErrorCode.Local_State);
        }

        Stored[offset.Partition.Value] = offset.Offset.Value;
    }

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout)
    {
        WatermarkQueries++;
        return WatermarkAnswer?.Invoke(partition.Partition.Value)
            ?? new WatermarkOffsets(_low.GetValueOrDefault(partition.Partition.Value), Log(partition.Partition.Value).Count);
    }

    public void Close()
    {
        CloseBlocks?.Wait();
        var assigned = _assigned.ToArray();
        if (assigned.Length > 0)
        {
            _listener!.OnRevoked([.. assigned.Order().Select(p => new TopicPartition(topic, p))]);
            Unassign(assigned);
        }

        Closed = true;
    }

    private void Unassign(IEnumerable<int> partitions)
    {
        foreach (var p in partitions)
        {
            // librdkafka keeps an application pause flag across reassignment: so does this fake.
            _assigned.Remove(p);
            _position.Remove(p);
        }
    }

    private List<Message<byte[]?, byte[]?>> Log(int partition)
    {
        if (!_logs.TryGetValue(partition, out var log))
        {
            log = [];
            _logs[partition] = log;
        }

        return log;
    }
}
