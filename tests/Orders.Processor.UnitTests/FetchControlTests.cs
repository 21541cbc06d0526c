using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Processor.Aggregates;
using Orders.Processor.DeadLetters;
using Orders.Processor.Loop;
using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests;

/// <summary>
/// Whether a partition may fetch, decided in one place: every reason to hold it, alone and together
/// in every order of begin and end, timed holds by the fake clock, and what a rebalance callback asks.
/// </summary>
public sealed class FetchControlTests
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromMilliseconds(100);
    private static readonly TopicPartition P0 = new("orders", 0);
    private static readonly FetchHold[] Reasons = [FetchHold.Restoring, FetchHold.Retry, FetchHold.Registry, FetchHold.Checkpoint, FetchHold.Backpressure];

    private readonly FakeTimeProvider _time = new();
    private readonly RecordingConsumer _consumer = new();
    private readonly PartitionTable _table = new();
    private readonly FetchControl _fetch;

    public FetchControlTests()
    {
        _fetch = new FetchControl(_consumer, _table, _time, MaxWait);
        _table.Add(new PartitionState(P0, new PartitionAggregate(60), nextOffset: 7, 0, 0, new Dictionary<long, DeadLetterDecision>()));
    }

    [Fact]
    public void EveryReason_HoldsThePartition_AndItsEnd_ResumesItWithASeekToTheFetchPosition()
    {
        foreach (var reason in Reasons)
        {
            _consumer.Calls.Clear();

            _fetch.Hold(P0, reason);
            var held = (_fetch.IsHeld(P0), _fetch.HeldFor(P0), _consumer.IsPaused(P0));
            _fetch.Release(P0, reason);

            Assert.Equal((true, reason, true), held);
            Assert.False(_fetch.IsHeld(P0));
            Assert.False(_consumer.IsPaused(P0));
            Assert.Equal(["pause 0", "resume 0", "seek 0@7"], _consumer.Calls);
        }
    }

    public static TheoryData<FetchHold, FetchHold> EveryPair()
    {
        var data = new TheoryData<FetchHold, FetchHold>();
        foreach (var first in Reasons)
        {
            foreach (var second in Reasons.Where(r => r != first))
            {
                data.Add(first, second);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryPair))]
    public void TwoReasons_InEveryOrderOfBeginAndEnd_PausedOnTheFirstBegin_ResumedOnTheLastEnd_Once(FetchHold a, FetchHold b)
    {
        // Every order of the four events in which each reason begins before it ends.
        string[][] orders = [["+a", "+b", "-a", "-b"], ["+a", "+b", "-b", "-a"], ["+a", "-a", "+b", "-b"], ["+b", "+a", "-a", "-b"], ["+b", "+a", "-b", "-a"], ["+b", "-b", "+a", "-a"]];
        foreach (var order in orders)
        {
            _consumer.Calls.Clear();
            var active = new HashSet<FetchHold>();
            foreach (var step in order)
            {
                var reason = step[1] == 'a' ? a : b;
                if (step[0] == '+')
                {
                    _fetch.Hold(P0, reason);
                    active.Add(reason);
                }
                else
                {
                    _fetch.Release(P0, reason);
                    active.Remove(reason);
                }

                Assert.True(active.Count > 0 == _consumer.IsPaused(P0), $"{string.Join(' ', order)}: after {step}, paused {_consumer.IsPaused(P0)} with {active.Count} reason(s)");
                Assert.Equal(active.Aggregate(FetchHold.None, (all, r) => all | r), _fetch.HeldFor(P0));
            }

            var expected = order[1][0] == '-' ? 2 : 1;
            Assert.Equal(expected, _consumer.Calls.Count(c => c.StartsWith("pause", StringComparison.Ordinal)));
            Assert.Equal(expected, _consumer.Calls.Count(c => c.StartsWith("resume", StringComparison.Ordinal)));
        }
    }

    [Fact]
    public void AllFiveReasons_InSeededRandomOrders_ThePartitionFetchesExactlyWhenNoneIsLeft()
    {
        var random = new Random(24);
        for (var round = 0; round < 500; round++)
        {
            var active = FetchHold.None;
            for (var step = 0; step < 20; step++)
            {
                var reason = Reasons[random.Next(Reasons.Length)];
                if (random.Next(2) == 0)
                {
                    _fetch.Hold(P0, reason);
                    active |= reason;
                }
                else
                {
                    _fetch.Release(P0, reason);
                    active &= ~reason;
                }

                Assert.Equal(active, _fetch.HeldFor(P0));
                Assert.Equal(active != FetchHold.None, _consumer.IsPaused(P0));
            }

            foreach (var reason in Reasons)
            {
                _fetch.Release(P0, reason);
            }

            Assert.False(_consumer.IsPaused(P0));
            Assert.False(_fetch.Busy);
        }
    }

    [Fact]
    public void ReleasingAReasonNotHeld_ChangesNothing()
    {
        _fetch.Hold(P0, FetchHold.Checkpoint);
        _consumer.Calls.Clear();

        _fetch.Release(P0, FetchHold.Backpressure);
        _fetch.Release(new TopicPartition("orders", 5), FetchHold.Checkpoint);

        Assert.Empty(_consumer.Calls);
        Assert.True(_consumer.IsPaused(P0));
    }

    [Theory]
    [InlineData(FetchHold.Registry)]
    [InlineData(FetchHold.Retry)]
    public void AWaitToRead_EndsByTheClock_AndThePumpWaitsNoLongerThanItsDueTime(FetchHold reason)
    {
        _fetch.WaitToRead(new TopicPartitionOffset(P0, 7), failures: 1, registryWaits: 2, TimeSpan.FromMilliseconds(40), reason);

        var before = _fetch.Pump();
        _time.Advance(TimeSpan.FromMilliseconds(40));
        var at = _fetch.Pump();

        Assert.Equal(TimeSpan.FromMilliseconds(40), before);
        Assert.Equal(MaxWait, at);
        Assert.False(_consumer.IsPaused(P0));
        Assert.Equal("seek 0@7", _consumer.Calls[^1]);
        // Its history stays until the record is read.
        Assert.Equal((1, 2), _fetch.History(new TopicPartitionOffset(P0, 7)));
        Assert.True(_fetch.Busy);
        _fetch.Read(P0);
        Assert.Equal((0, 0), _fetch.History(new TopicPartitionOffset(P0, 7)));
        Assert.False(_fetch.Busy);
    }

    [Fact]
    public void AWaitToRead_WhileHeldForACheckpoint_EndsButTheCheckpointHoldStays()
    {
        _fetch.Hold(P0, FetchHold.Checkpoint);
        _fetch.WaitToRead(new TopicPartitionOffset(P0, 7), 0, 1, TimeSpan.FromMilliseconds(10), FetchHold.Registry);

        _time.Advance(TimeSpan.FromMilliseconds(10));
        _fetch.Pump();

        Assert.Equal(FetchHold.Checkpoint, _fetch.HeldFor(P0));
        Assert.True(_consumer.IsPaused(P0));
    }

    [Fact]
    public void History_IsKeptForTheSameRecord_AndStartsOverForAnother()
    {
        _fetch.WaitToRead(new TopicPartitionOffset(P0, 10), failures: 2, registryWaits: 3, TimeSpan.Zero, FetchHold.Registry);

        Assert.Equal((2, 3), _fetch.History(new TopicPartitionOffset(P0, 10)));
        Assert.Equal((0, 0), _fetch.History(new TopicPartitionOffset(P0, 11)));
        Assert.Equal((0, 0), _fetch.History(new TopicPartitionOffset(new TopicPartition("orders", 1), 10)));
        Assert.True(_fetch.AllWaitForRegistry);
    }

    [Fact]
    public void AllWaitForRegistry_IsFalse_OnceAnyRecordFailedForAnotherReason()
    {
        _fetch.WaitToRead(new TopicPartitionOffset(P0, 10), 0, 1, TimeSpan.FromSeconds(1), FetchHold.Registry);
        _fetch.WaitToRead(new TopicPartitionOffset(new TopicPartition("orders", 1), 3), 1, 0, TimeSpan.FromSeconds(1), FetchHold.Retry);

        Assert.False(_fetch.AllWaitForRegistry);
    }

    [Fact]
    public void InsideARebalanceCallback_PausesAndResumesWaitForThePumpAfterIt()
    {
        _fetch.EnterCallback();
        _fetch.Assigned(P0, restored: false);
        _fetch.Assigned(new TopicPartition("orders", 1), restored: true);
        var during = _consumer.Calls.ToList();
        _fetch.Pump();
        var stillInside = _consumer.Calls.ToList();
        _fetch.LeaveCallback();
        _fetch.Pump();

        Assert.Empty(during);
        Assert.Empty(stillInside);
        Assert.Equal(["pause 0", "resume 1"], _consumer.Calls.Order());
        Assert.Equal(FetchHold.Restoring, _fetch.HeldFor(P0));
    }

    [Fact]
    public void AHoldAndItsEnd_InsideOneCallback_ResumeWithASeekAfterIt()
    {
        _fetch.EnterCallback();
        _fetch.Hold(P0, FetchHold.Checkpoint);
        _fetch.Release(P0, FetchHold.Checkpoint);
        _fetch.LeaveCallback();
        _fetch.Pump();

        Assert.Equal(["resume 0", "seek 0@7"], _consumer.Calls);
    }

    [Fact]
    public void AHoldAskedAfterTheCallback_IsNotUndoneByTheResumeTheCallbackAsked()
    {
        _fetch.EnterCallback();
        _fetch.Assigned(P0, restored: true);
        _fetch.LeaveCallback();

        _fetch.WaitToRead(new TopicPartitionOffset(P0, 7), 0, 1, TimeSpan.FromSeconds(30), FetchHold.Registry);
        _fetch.Pump();

        Assert.True(_consumer.IsPaused(P0));
        Assert.Equal(["pause 0"], _consumer.Calls);
    }

    [Fact]
    public void Restored_AfterARestoreThatFailed_ResumesAtTheStatesFetchPosition()
    {
        _fetch.Assigned(P0, restored: false);

        _fetch.Release(P0, FetchHold.Restoring);

        Assert.Equal(["pause 0", "resume 0", "seek 0@7"], _consumer.Calls);
    }

    [Fact]
    public void Forget_DropsEveryReason_AndClearsThePauseNow_SoThePartitionNeverComesBackPaused()
    {
        _fetch.Hold(P0, FetchHold.Backpressure);
        _fetch.WaitToRead(new TopicPartitionOffset(P0, 7), 1, 0, TimeSpan.FromMinutes(1), FetchHold.Retry);
        _fetch.EnterCallback();

        _fetch.Forget([P0]);
        _fetch.LeaveCallback();
        _fetch.Pump();

        Assert.False(_consumer.IsPaused(P0));
        Assert.Equal(FetchHold.None, _fetch.HeldFor(P0));
        Assert.False(_fetch.Busy);
        Assert.Equal((0, 0), _fetch.History(new TopicPartitionOffset(P0, 7)));
    }

    [Fact]
    public void Holds_NameEachHeldPartitionsReasons_ForTheView()
    {
        _fetch.Hold(P0, FetchHold.Checkpoint);
        _fetch.Hold(P0, FetchHold.Backpressure);
        _fetch.WaitToRead(new TopicPartitionOffset(new TopicPartition("orders", 2), 0), 0, 1, TimeSpan.FromSeconds(1), FetchHold.Registry);

        Assert.Equal(new Dictionary<int, FetchHold> { [0] = FetchHold.Checkpoint | FetchHold.Backpressure, [2] = FetchHold.Registry }, _fetch.Holds());
    }

    [Fact]
    public void Pump_NothingHeld_WaitsTheMaximum_AndCallsNothing()
    {
        Assert.Equal(MaxWait, _fetch.Pump());
        Assert.Empty(_consumer.Calls);
    }

    /// <summary>The consumer's pause, resume and seek, in the order made.</summary>
    private sealed class RecordingConsumer : IConsumerPort
    {
        private readonly HashSet<int> _paused = [];

        public List<string> Calls { get; } = [];

        public IReadOnlyList<TopicPartition> Assignment => [];

        public bool IsPaused(TopicPartition partition) => _paused.Contains(partition.Partition.Value);

        public void Pause(IEnumerable<TopicPartition> partitions)
        {
            foreach (var p in partitions)
            {
                Calls.Add($"pause {p.Partition.Value}");
                _paused.Add(p.Partition.Value);
            }
        }

        public void Resume(IEnumerable<TopicPartition> partitions)
        {
            foreach (var p in partitions)
            {
                Calls.Add($"resume {p.Partition.Value}");
                _paused.Remove(p.Partition.Value);
            }
        }

        public void Seek(TopicPartitionOffset offset) => Calls.Add($"seek {offset.Partition.Value}@{offset.Offset.Value}");

        public void Subscribe(string topic, IRebalanceListener listener) => throw new NotSupportedException();

        public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout) => throw new NotSupportedException();

        public void StoreOffset(TopicPartitionOffset offset) => throw new NotSupportedException();

        public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout) => throw new NotSupportedException();

        public void Close() => throw new NotSupportedException();
    }
}
