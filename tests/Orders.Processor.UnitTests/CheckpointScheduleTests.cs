using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests;

public sealed class CheckpointScheduleTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
    private readonly CheckpointSchedule _schedule;
    private readonly PartitionState _state = new(new TopicPartition("orders", 0), new PartitionAggregate(60), 0, 0, 0, new Dictionary<long, DeadLetterDecision>());

    public CheckpointScheduleTests()
    {
        _schedule = new CheckpointSchedule(_time, TimeSpan.FromSeconds(5), holdAfter: TimeSpan.FromSeconds(1));
        _schedule.Started(_state);
    }

    [Fact]
    public void ChangedPartition_IsWrittenOnceTheIntervalHasPassed()
    {
        _state.Advance(0);
        Assert.Equal(CheckpointStep.None, _schedule.Next(_state));

        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(CheckpointStep.Write, _schedule.Next(_state));

        _schedule.Written(_state);
        Assert.Equal(CheckpointStep.None, _schedule.Next(_state));
    }

    [Fact]
    public void UnchangedPartition_IsNeverWritten()
    {
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(CheckpointStep.None, _schedule.Next(_state));
    }

    [Fact]
    public void DeadLettersInFlight_MakeItWait_ThenHoldThePartition_SoCheckpointsCannotStarve()
    {
        _state.Advance(0);
        _state.DeadLetterSent();
        _state.DeadLetterSent();
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(CheckpointStep.Wait, _schedule.Next(_state));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(CheckpointStep.Hold, _schedule.Next(_state));

        _state.DeadLetterSettled();
        _state.DeadLetterSettled();
        Assert.Equal(CheckpointStep.Write, _schedule.Next(_state));
    }

    [Fact]
    public void CheckpointInFlight_IsNotStartedAgain()
    {
        _state.Advance(0);
        _time.Advance(TimeSpan.FromSeconds(5));
        _state.Checkpoint.Began();

        Assert.Equal(CheckpointStep.None, _schedule.Next(_state));
    }
}
