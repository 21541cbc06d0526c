using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.DeadLetters;
using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests;

public sealed class PartitionTableTests
{
    [Fact]
    public void TryGet_FindsTheStateHeldNow_AfterItsPartitionWasRemovedAndAddedAgain()
    {
        var table = new PartitionTable();
        var first = State(3);
        table.Add(first);
        table.Add(State(4));

        Assert.True(table.TryGet(3, out var found));
        Assert.Same(first, found);

        table.Remove([new TopicPartition("orders", 3)]);
        Assert.False(table.TryGet(3, out _));

        var second = State(3);
        table.Add(second);
        Assert.True(table.TryGet(3, out found));
        Assert.Same(second, found);
        Assert.True(table.TryGet(4, out found));
        Assert.Equal(4, found.Partition.Partition.Value);
        Assert.True(table.TryGet(3, out found));
        Assert.Same(second, found);
    }

    [Fact]
    public void TryGet_AfterAStateIsReplacedInPlace_FindsTheNewOne()
    {
        var table = new PartitionTable();
        table.Add(State(0));
        Assert.True(table.TryGet(0, out _));

        var replacement = State(0);
        table.Add(replacement);

        Assert.True(table.TryGet(0, out var found));
        Assert.Same(replacement, found);
    }

    private static PartitionState State(int partition) =>
        new(new TopicPartition("orders", partition), new PartitionAggregate(60), 0, 0, 0, new Dictionary<long, DeadLetterDecision>());
}
