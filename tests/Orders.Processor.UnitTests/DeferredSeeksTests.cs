using Confluent.Kafka;
using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests;

/// <summary>librdkafka refuses a seek (ERR__STATE) until it has started fetching a newly assigned partition.</summary>
public sealed class DeferredSeeksTests
{
    private static readonly TopicPartition P0 = new("orders", 0);
    private static readonly TopicPartition P1 = new("orders", 1);

    private readonly HashSet<TopicPartition> _started = [];
    private readonly HashSet<TopicPartition> _assigned = [P0, P1];
    private readonly List<TopicPartitionOffset> _made = [];
    private readonly List<TopicPartitionOffset> _deferred = [];
    private readonly DeferredSeeks _seeks;

    public DeferredSeeksTests() => _seeks = new DeferredSeeks(Seek, _assigned.Contains, _deferred.Add);

    [Fact]
    public void Seek_OfAPartitionTheClientHasNotStarted_IsKept_AndMadeBeforeAPollOnceItHas()
    {
        _seeks.Seek(new TopicPartitionOffset(P0, 10));
        _seeks.Retry();
        var waiting = _seeks.Count;
        _started.Add(P0);
        _seeks.Retry();

        Assert.Equal(1, waiting);
        Assert.Equal([new TopicPartitionOffset(P0, 10)], _deferred);
        Assert.Equal([new TopicPartitionOffset(P0, 10)], _made);
        Assert.Equal(0, _seeks.Count);
    }

    [Fact]
    public void ARecordOfAPartitionWhoseSeekWaits_IsDropped_AndTheSeekIsMadeAtOnce_TheNextIsAdmitted()
    {
        _seeks.Seek(new TopicPartitionOffset(P0, 10));
        _started.Add(P0);

        var first = _seeks.Admit(Record(P0, 0));
        var afterSeek = _seeks.Admit(Record(P0, 10));
        var other = _seeks.Admit(Record(P1, 3));

        Assert.False(first);
        Assert.Equal([new TopicPartitionOffset(P0, 10)], _made);
        Assert.True(afterSeek);
        Assert.True(other);
    }

    [Fact]
    public void ARecordThatComesWhileTheSeekIsStillRefused_IsDropped_AndTheSeekKept()
    {
        _seeks.Seek(new TopicPartitionOffset(P0, 10));

        Assert.False(_seeks.Admit(Record(P0, 0)));
        Assert.Equal(1, _seeks.Count);
        Assert.Empty(_made);
    }

    [Fact]
    public void ARefusedSeek_OfAPartitionNoLongerAssigned_IsDropped()
    {
        _seeks.Seek(new TopicPartitionOffset(P0, 10));
        _assigned.Remove(P0);
        _seeks.Retry();
        _seeks.Seek(new TopicPartitionOffset(P0, 20));

        Assert.Equal(0, _seeks.Count);
        Assert.Equal([new TopicPartitionOffset(P0, 10)], _deferred);
        Assert.Empty(_made);
    }

    [Fact]
    public void ALaterSeek_ReplacesOneThatWaits()
    {
        _seeks.Seek(new TopicPartitionOffset(P0, 10));
        _seeks.Seek(new TopicPartitionOffset(P0, 20));
        _started.Add(P0);
        _seeks.Retry();

        Assert.Equal([new TopicPartitionOffset(P0, 20)], _made);
    }

    [Fact]
    public void ASeekStartedPartitionsTakeAtOnce_IsNeverKept_AndOtherErrorsAreTheCallersToHandle()
    {
        _started.Add(P0);
        _seeks.Seek(new TopicPartitionOffset(P0, 10));
        _started.Add(P1);
        _assigned.Remove(P1);

        var error = Assert.Throws<KafkaException>(() => _seeks.Seek(new TopicPartitionOffset(P1, -5)));

        Assert.Equal(ErrorCode.Local_InvalidArg, error.Error.Code);
        Assert.Equal([new TopicPartitionOffset(P0, 10)], _made);
        Assert.Empty(_deferred);
        Assert.Equal(0, _seeks.Count);
    }

    private void Seek(TopicPartitionOffset offset)
    {
        if (!_started.Contains(offset.TopicPartition))
        {
            throw new KafkaException(ErrorCode.Local_State);
        }

        if (offset.Offset.Value < 0 && offset.Offset != Offset.Beginning)
        {
            throw new KafkaException(ErrorCode.Local_InvalidArg);
        }

        _made.Add(offset);
    }

    private static ConsumeResult<byte[]?, byte[]?> Record(TopicPartition partition, long offset) =>
        new() { TopicPartitionOffset = new TopicPartitionOffset(partition, offset) };
}
