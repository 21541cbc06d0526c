using Confluent.Kafka;
using Microsoft.Extensions.Time.Testing;
using Orders.Contracts;
using Orders.Processor.Aggregates;
using Orders.Processor.DeadLetters;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Orders.Processor.Records;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

public sealed class RecordGateTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeConsumer _consumer;
    private readonly PartitionTable _table = new();
    private readonly ProcessorCounters _counters = new();
    private readonly RecordingLogger _logs = new();
    private readonly FetchControl _fetch;
    private readonly RecordGate _gate;

    public RecordGateTests()
    {
        _consumer = new FakeConsumer(_time, "orders");
        _consumer.Subscribe("orders", new NoRebalances());
        _fetch = new FetchControl(_consumer, _table, _time, TimeSpan.FromMilliseconds(100));
        _gate = new RecordGate(_table, new RetentionGaps(_consumer, _fetch, TimeSpan.FromSeconds(1), _counters, _logs), _fetch, _counters, _logs);
    }

    [Fact]
    public void Admit_APartitionStillRestoring_IsNotOurs_AndNothingIsCounted()
    {
        Assert.Null(_gate.Admit(Record(0, 0)));
        Assert.Equal(0, _counters.Honoured + _counters.SkippedByRetention);
    }

    [Fact]
    public void Admit_AnOrdinaryRecord_IsAdmittedWithItsPartitionsState()
    {
        var state = Own(0, nextOffset: 4);

        Assert.Same(state, _gate.Admit(Record(0, 4)));
        Assert.Equal(4, state.NextOffset);
    }

    [Fact]
    public void Admit_ARecordFromBelowThePosition_IsDropped_AndThePartitionSeeksBackToItsPosition_NotReportedAsTheTopicsDoing()
    {
        // librdkafka: a reply to an offset query that the restore's seek made outdated restarts the query, which
        // moves the partition back to its start; every record below the state's position then arrives again.
        var state = Own(0, nextOffset: 10);
        var position = new TopicPartitionOffset("orders", 0, 10);
        _consumer.Assign(0);
        _consumer.Consume(TimeSpan.Zero);

        Assert.Null(_gate.Admit(Record(0, 3)));
        Assert.Null(_gate.Admit(Record(0, 4)));
        var held = _fetch.HeldFor(state.Partition);
        _fetch.Pump();

        Assert.Equal(FetchHold.Reposition, held);
        Assert.Equal(FetchHold.None, _fetch.HeldFor(state.Partition));
        Assert.Equal([position], _consumer.Seeks);
        Assert.Equal(10, state.NextOffset);
        Assert.Equal(1, _logs.Count(78));
        Assert.Equal(0, _logs.Count(22));
    }

    [Fact]
    public void Admit_OffsetsThatGoBackAgainAfterEachSeekBack_AreThePartitionsDoing_IgnoredAndReportedOnce()
    {
        // The topic deleted and created again: every seek to the old position lands below it once more.
        var state = Own(0, nextOffset: 10);
        _consumer.Assign(0);
        _consumer.Consume(TimeSpan.Zero);

        for (var i = 0; i < PartitionState.SeeksBackAllowed; i++)
        {
            Assert.Null(_gate.Admit(Record(0, 3)));
            _fetch.Pump();
        }

        Assert.Null(_gate.Admit(Record(0, 3)));
        Assert.Null(_gate.Admit(Record(0, 4)));

        Assert.Equal(PartitionState.SeeksBackAllowed, _consumer.Seeks.Count);
        Assert.Equal(FetchHold.None, _fetch.HeldFor(state.Partition));
        Assert.Equal(10, state.NextOffset);
        Assert.Equal(PartitionState.SeeksBackAllowed, _logs.Count(78));
        Assert.Equal(1, _logs.Count(22));
    }

    [Fact]
    public void Admit_AGapAboveThePartitionsStart_IsNotALoss()
    {
        var state = Own(0, nextOffset: 0);
        _consumer.Append(0, [.. Enumerable.Range(0, 8).Select(_ => LoopHarness.Order(1))]);

        Assert.Same(state, _gate.Admit(Record(0, 5)));

        Assert.Equal(5, state.NextOffset);
        Assert.Equal(0, state.Aggregate.SkippedByRetention);
        Assert.Equal(0, _counters.SkippedByRetention);
    }

    [Fact]
    public void Admit_AGapBelowThePartitionsStart_CountsTheRecordsRetentionDeletedAsLost()
    {
        var state = Own(0, nextOffset: 0);
        _consumer.Append(0, [.. Enumerable.Range(0, 8).Select(_ => LoopHarness.Order(1))]);
        _consumer.DeleteBefore(0, 5);

        Assert.Same(state, _gate.Admit(Record(0, 5)));

        Assert.Equal(5, state.Aggregate.SkippedByRetention);
        Assert.Equal(5, _counters.SkippedByRetention);
        Assert.Equal(1, _logs.Count(20));
    }

    [Fact]
    public void Admit_AGapOverARecordDeadLetteredBeforeARestart_CountsItsDecision_NotALoss()
    {
        var state = Own(0, nextOffset: 0, decided: new() { [2] = new DeadLetterDecision(DeadLetterHeaders.ReasonPoison, 7) });
        _consumer.Append(0, [.. Enumerable.Range(0, 8).Select(_ => LoopHarness.Order(1))]);
        _consumer.DeleteBefore(0, 4);

        _gate.Admit(Record(0, 4));

        Assert.Equal(3, state.Aggregate.SkippedByRetention);
        Assert.Equal(1, state.Aggregate.ToData().DeadLettered[DeadLetterHeaders.ReasonPoison]);
        Assert.Equal(0, state.DecisionsToHonour);
        // Honoured as one read is (orders.dead_letters.honoured): it was missing from the count.
        Assert.Equal(1, _counters.Honoured);
    }

    [Fact]
    public void Admit_AGapWhoseStartCannotBeRead_HoldsThePartition_ThenFetchesFromWhereItWasAndCountsTheLossOnceTheStartIsKnown()
    {
        var state = Own(0, nextOffset: 0);
        _consumer.Assign(0);
        _consumer.Consume(TimeSpan.Zero);
        var answers = 0;
        _consumer.WatermarkAnswer = _ => ++answers == 1 ? throw new KafkaException(ErrorCode.Local_TimedOut) : new WatermarkOffsets(4, 10);

        // Retention may have deleted 0-3, or they may be markers: until the start is known, nothing moves.
        Assert.Null(_gate.Admit(Record(0, 6)));
        Assert.Equal(0, state.NextOffset);
        Assert.Equal(0, _counters.SkippedByRetention);
        Assert.Equal(FetchHold.GapCheck, _fetch.HeldFor(state.Partition));
        Assert.Contains(_logs.Lines, l => l.Id.Id == 19 && l.Text.Contains("cannot be read", StringComparison.Ordinal) && l.Text.Contains("fetches again from 0", StringComparison.Ordinal));
        Assert.Null(_gate.Admit(Record(0, 7)));

        _time.Advance(RetentionGaps.RecheckDelay);
        _fetch.Pump();

        Assert.Equal(FetchHold.None, _fetch.HeldFor(state.Partition));
        Assert.Equal(new TopicPartitionOffset("orders", 0, 0), Assert.Single(_consumer.Seeks));
        Assert.Same(state, _gate.Admit(Record(0, 6)));
        Assert.Equal(4, _counters.SkippedByRetention);
        Assert.Equal(6, state.NextOffset);
    }

    [Fact]
    public void Admit_ARecordOfAHeldPartition_IsDropped_AndReadAgainFromTheFetchPositionWhenTheHoldEnds()
    {
        var state = Own(0, nextOffset: 2);
        _consumer.Assign(0);
        _consumer.Consume(TimeSpan.Zero);
        _fetch.Hold(state.Partition, FetchHold.Checkpoint);

        Assert.Null(_gate.Admit(Record(0, 2)));
        Assert.Null(_gate.Admit(Record(0, 3)));
        _fetch.Release(state.Partition, FetchHold.Checkpoint);

        Assert.Equal(new TopicPartitionOffset("orders", 0, 2), Assert.Single(_consumer.Seeks));
        Assert.Equal(2, state.NextOffset);
        Assert.Same(state, _gate.Admit(Record(0, 2)));
    }

    [Fact]
    public void Admit_ARecordDeadLetteredBeforeARestart_IsHonoured_NotDecidedAgain()
    {
        var state = Own(0, nextOffset: 3, decided: new() { [3] = new DeadLetterDecision(DeadLetterHeaders.ReasonInvalid, 11) });

        Assert.Null(_gate.Admit(Record(0, 3)));

        Assert.Equal(4, state.NextOffset);
        Assert.Equal(1, _counters.Honoured);
        Assert.Equal(1, state.Aggregate.ToData().DeadLettered[DeadLetterHeaders.ReasonInvalid]);
        Assert.Same(state, _gate.Admit(Record(0, 4)));
    }

    private PartitionState Own(int partition, long nextOffset, Dictionary<long, DeadLetterDecision>? decided = null)
    {
        var state = new PartitionState(new TopicPartition("orders", partition), new PartitionAggregate(60), nextOffset, partition, 0, decided ?? []);
        _table.Add(state);
        return state;
    }

    private static ConsumeResult<byte[]?, byte[]?> Record(int partition, long offset) => new()
    {
        TopicPartitionOffset = new TopicPartitionOffset("orders", partition, offset),
        Message = LoopHarness.Order(10),
    };

    private sealed class NoRebalances : Loop.IRebalanceListener
    {
        public IEnumerable<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions) => [];

        public void OnRevoked(IReadOnlyList<TopicPartition> partitions)
        {
        }

        public void OnLost(IReadOnlyList<TopicPartition> partitions)
        {
        }
    }
}
