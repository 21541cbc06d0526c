using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Failures;

namespace Orders.Processor.UnitTests;

/// <summary>The retry bookkeeping of the consume loop, driven by a fake clock.</summary>
public sealed class PausedPartitionsTests
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(100);
    private readonly FakeTimeProvider _time = new();
    private readonly PausedPartitions _paused;

    public PausedPartitionsTests() => _paused = new PausedPartitions(_time, MaxWait);

    [Fact]
    public void TakeDue_BeforeTheBackoffEnds_ResumesNothing_AndWaitsUntilItEnds()
    {
        _paused.Pause(At(0, 10), failures: 1, registryWaits: 0, TimeSpan.FromMilliseconds(40));

        var due = _paused.TakeDue(out var wait);

        Assert.Empty(due);
        Assert.Equal(TimeSpan.FromMilliseconds(40), wait);
    }

    [Fact]
    public void TakeDue_WhenTheClockPassesTheBackoff_ResumesThatPartitionOnce()
    {
        _paused.Pause(At(0, 10), 1, 0, TimeSpan.FromMilliseconds(40));
        _paused.Pause(At(1, 5), 2, 0, TimeSpan.FromSeconds(3));

        _time.Advance(TimeSpan.FromMilliseconds(40));
        var due = _paused.TakeDue(out var wait);
        var again = _paused.TakeDue(out _);

        Assert.Equal([new TopicPartition("orders", 0)], due);
        Assert.Empty(again);
        Assert.Equal(MaxWait, wait);
        Assert.Equal(2, _paused.Count);
    }

    [Fact]
    public void TakeDue_NothingPaused_WaitsTheMaximum()
    {
        Assert.Empty(_paused.TakeDue(out var wait));
        Assert.Equal(MaxWait, wait);
    }

    [Fact]
    public void History_IsKeptForTheSameRecord_AndStartsOverForAnother()
    {
        _paused.Pause(At(0, 10), failures: 2, registryWaits: 3, TimeSpan.Zero);

        Assert.Equal((2, 3), _paused.History(At(0, 10)));
        Assert.Equal((0, 0), _paused.History(At(0, 11)));
        Assert.Equal((0, 0), _paused.History(At(1, 10)));
    }

    [Fact]
    public void ClearAndForget_DropThePartition()
    {
        _paused.Pause(At(0, 1), 1, 0, TimeSpan.FromSeconds(1));
        _paused.Pause(At(1, 1), 1, 0, TimeSpan.FromSeconds(1));
        _paused.Pause(At(2, 1), 1, 0, TimeSpan.FromSeconds(1));

        _paused.Clear(new TopicPartition("orders", 0));
        _paused.Forget([new TopicPartition("orders", 1)]);

        Assert.Equal(1, _paused.Count);
        Assert.Equal((0, 0), _paused.History(At(0, 1)));
        Assert.Equal((1, 0), _paused.History(At(2, 1)));
    }

    private static TopicPartitionOffset At(int partition, long offset) => new("orders", partition, offset);
}
