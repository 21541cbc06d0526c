using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// The producer port as a log of what was written. Reports go out when <see cref="Deliver"/> or
/// <see cref="Flush(TimeSpan)"/> is called, or at once with <see cref="AutoAcknowledge"/>; an error queued with
/// <see cref="FailNext"/> fails the next deliveries instead.
/// </summary>
public sealed class FakeProducer(FakeTimeProvider time) : IProducerPort
{
    private readonly Queue<(TopicPartition Partition, Message<byte[]?, byte[]?> Message, Action<DeliveryReport<byte[]?, byte[]?>> Report)> _pending = new();
    private readonly Queue<ErrorCode> _failures = new();
    private readonly Dictionary<TopicPartition, long> _next = [];

    public List<(TopicPartition Partition, Message<byte[]?, byte[]?> Message)> Written { get; } = [];

    /// <summary>Reports are delivered as records are produced.</summary>
    public bool AutoAcknowledge { get; set; } = true;

    /// <summary>Holds every report back (a broker that does not answer) until set false again.</summary>
    public bool Stalled { get; set; }

    public int Pending => _pending.Count;

    /// <summary>Records handed to <see cref="Produce"/>, delivered or not.</summary>
    public int Produced { get; private set; }

    /// <summary>Runs at the start of every flush, with its timeout.</summary>
    public Action<TimeSpan>? BeforeFlush { get; set; }

    public IEnumerable<Message<byte[]?, byte[]?>> To(string topic) => Written.Where(w => w.Partition.Topic == topic).Select(w => w.Message);

    public void FailNext(ErrorCode code, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            _failures.Enqueue(code);
        }
    }

    public void Produce(TopicPartition partition, Message<byte[]?, byte[]?> message, Action<DeliveryReport<byte[]?, byte[]?>> report)
    {
        Produced++;
        _pending.Enqueue((partition, message, report));
        if (AutoAcknowledge)
        {
            Deliver();
        }
    }

    /// <summary>Delivers what it can; a stalled broker makes it wait out the timeout (on the fake clock).</summary>
    public int Flush(TimeSpan timeout)
    {
        BeforeFlush?.Invoke(timeout);
        if (Stalled && _pending.Count > 0)
        {
            time.Advance(timeout);
        }

        Deliver();
        return _pending.Count;
    }

    /// <summary>Delivers every pending report.</summary>
    public void Deliver()
    {
        while (!Stalled && _pending.TryDequeue(out var item))
        {
            var error = _failures.TryDequeue(out var code) ? new Error(code) : new Error(ErrorCode.NoError);
            var offset = Offset.Unset;
            if (!error.IsError)
            {
                offset = _next.GetValueOrDefault(item.Partition);
                _next[item.Partition] = offset + 1;
                Written.Add((item.Partition, item.Message));
            }

            item.Report(new DeliveryReport<byte[]?, byte[]?>
            {
                TopicPartitionOffset = new TopicPartitionOffset(item.Partition, offset),
                Message = item.Message,
                Error = error,
            });
        }
    }
}
