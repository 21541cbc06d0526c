using Confluent.Kafka;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// A consumer port that any thread may call, for <see cref="FetchAheadConsumer"/>: its polls take
/// scripted steps in order (a record, a consume error, a rebalance callback run inside the poll, as
/// librdkafka runs it) and wait their timeout, in real time, when none is left. It writes down
/// every pause, resume, seek and close: the thread that made it, and whether a poll or a callback
/// was under way on another thread then.
/// </summary>
public sealed class ScriptedConsumer(string topic = "orders") : IConsumerPort
{
    private readonly object _gate = new();
    private readonly Queue<Func<ScriptedConsumer, ConsumeResult<byte[]?, byte[]?>?>> _steps = new();
    private readonly List<string> _log = [];
    private IRebalanceListener? _listener;
    private int _pollingThread;
    private int _callbackThread;

    /// <summary>Records returned by polls so far.</summary>
    public int Returned { get; private set; }

    /// <summary>Polls that found no step (the fetching thread then hands over what it has).</summary>
    public int EmptyPolls { get; private set; }

    /// <summary>What the assigned callbacks answered, in order.</summary>
    public List<TopicPartitionOffset> Answered { get; } = [];

    /// <summary>Exceptions the rebalance callbacks threw back into the poll.</summary>
    public List<Exception> CallbackErrors { get; } = [];

    /// <summary>A rebalance callback is under way (the fetching thread waits in it).</summary>
    /// <summary>A poll is taking a step (a record, a callback, or a stuck poll).</summary>
    public bool InPoll
    {
        get
        {
            lock (_gate)
            {
                return _pollingThread != 0;
            }
        }
    }

    public bool InCallback
    {
        get
        {
            lock (_gate)
            {
                return _callbackThread != 0;
            }
        }
    }

    public bool Closed { get; private set; }

    /// <summary>Pauses, resumes and seeks throw this for the partitions not in it (null: none throws).</summary>
    public HashSet<int>? AssignedOnly { get; set; }

    public IReadOnlyList<TopicPartition> Assignment => [];

    /// <summary>Lines such as <c>pause orders[0] on 12 during-callback</c>.</summary>
    public List<string> Log()
    {
        lock (_gate)
        {
            return [.. _log];
        }
    }

    public static ConsumeResult<byte[]?, byte[]?> Record(int partition, long offset, string topic = "orders") => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset(topic, partition, offset),
        Message = new Message<byte[]?, byte[]?> { Value = [(byte)partition, (byte)offset] },
    };

    public void AddRecords(params (int Partition, long Offset)[] records)
    {
        foreach (var (partition, offset) in records)
        {
            Add(_ => Record(partition, offset, topic));
        }
    }

    public void AddError(ErrorCode code) => Add(_ => throw new ConsumeException(
        new ConsumeResult<byte[], byte[]> { TopicPartitionOffset = new TopicPartitionOffset(topic, 0, Offset.Unset) }, new Error(code)));

    /// <summary>The group assigns these partitions: the assigned callback runs in the poll that takes this step.</summary>
    public void AddAssign(params int[] partitions) => Add(c => c.Callback(l =>
    {
        var answer = l.OnAssigned([.. partitions.Select(p => new TopicPartition(topic, p))]).ToList();
        lock (_gate)
        {
            Answered.AddRange(answer);
        }
    }));

    public void AddLose(params int[] partitions) => Add(c => c.Callback(l => l.OnLost([.. partitions.Select(p => new TopicPartition(topic, p))])));

    /// <summary>A poll that does not return until <paramref name="release"/> is set (librdkafka stuck inside it).</summary>
    public void AddStuck(ManualResetEventSlim release) => Add(_ =>
    {
        release.Wait();
        return null;
    });

    public void AddRevoke(params int[] partitions) => Add(c => c.Callback(l => l.OnRevoked([.. partitions.Select(p => new TopicPartition(topic, p))])));

    public void Subscribe(string subscribed, IRebalanceListener listener) => _listener = listener;

    public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout)
    {
        Func<ScriptedConsumer, ConsumeResult<byte[]?, byte[]?>?>? step;
        lock (_gate)
        {
            if (_steps.Count == 0)
            {
                Monitor.Wait(_gate, timeout);
            }

            if (!_steps.TryDequeue(out step))
            {
                EmptyPolls++;
                return null;
            }

            _pollingThread = Environment.CurrentManagedThreadId;
        }

        try
        {
            var record = step(this);
            lock (_gate)
            {
                Returned += record is null ? 0 : 1;
            }

            return record;
        }
        finally
        {
            lock (_gate)
            {
                _pollingThread = 0;
            }
        }
    }

    public void Pause(IEnumerable<TopicPartition> partitions) => Write("pause", partitions);

    public void Resume(IEnumerable<TopicPartition> partitions) => Write("resume", partitions);

    public void Seek(TopicPartitionOffset offset) => Write($"seek@{offset.Offset.Value}", [offset.TopicPartition]);

    public void StoreOffset(TopicPartitionOffset offset)
    {
    }

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout) => new(0, 0);

    public void Close()
    {
        lock (_gate)
        {
            _log.Add($"close on {Environment.CurrentManagedThreadId}{(_pollingThread != 0 ? " during-poll" : "")}");
            Closed = true;
        }
    }

    private void Add(Func<ScriptedConsumer, ConsumeResult<byte[]?, byte[]?>?> step)
    {
        lock (_gate)
        {
            _steps.Enqueue(step);
            Monitor.PulseAll(_gate);
        }
    }

    private ConsumeResult<byte[]?, byte[]?>? Callback(Action<IRebalanceListener> callback)
    {
        lock (_gate)
        {
            _callbackThread = Environment.CurrentManagedThreadId;
        }

        try
        {
            callback(_listener!);
        }
        catch (Exception e)
        {
            // The client keeps it and throws it again from the poll.
            lock (_gate)
            {
                CallbackErrors.Add(e);
            }
        }
        finally
        {
            lock (_gate)
            {
                _callbackThread = 0;
            }
        }

        return null;
    }

    private void Write(string what, IEnumerable<TopicPartition> partitions)
    {
        lock (_gate)
        {
            var thread = Environment.CurrentManagedThreadId;
            var when = _callbackThread != 0 ? " during-callback" : _pollingThread != 0 && _pollingThread != thread ? " during-poll" : "";
            foreach (var partition in partitions)
            {
                if (AssignedOnly is not null && !AssignedOnly.Contains(partition.Partition.Value))
                {
                    throw new KafkaException(ErrorCode.Local_State);
                }

                _log.Add($"{what} {partition.Topic}[{partition.Partition.Value}] on {thread}{when}");
            }
        }
    }
}
