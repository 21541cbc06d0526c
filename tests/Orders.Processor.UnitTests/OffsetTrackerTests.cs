using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests;

public sealed class OffsetTrackerTests
{
    [Fact]
    public void InOrderCompletion_MovesTheLowestIncompleteOffset_WithNothingAboveIt()
    {
        var tracker = new OffsetTracker(10);

        Assert.True(tracker.Complete(10));
        Assert.True(tracker.Complete(11));

        Assert.Equal(12, tracker.LowestIncomplete);
        Assert.Equal(0, tracker.CompletedAboveCount);
        Assert.Empty(tracker.ToRanges());
    }

    [Fact]
    public void OutOfOrderCompletion_IsKeptAbove_UntilTheHoleBelowIsFilled()
    {
        var tracker = new OffsetTracker(0);
        tracker.Complete(2);
        tracker.Complete(3);
        tracker.Complete(5);

        Assert.Equal(0, tracker.LowestIncomplete);
        Assert.Equal(3, tracker.CompletedAboveCount);
        Assert.Equal([2L, 2, 1, 1], tracker.ToRanges());
        Assert.True(tracker.IsDone(3));
        Assert.False(tracker.IsDone(4));

        tracker.Complete(0);
        tracker.Complete(1);

        Assert.Equal(4, tracker.LowestIncomplete);
        Assert.Equal(1, tracker.CompletedAboveCount);
        Assert.Equal([1L, 1], tracker.ToRanges());
    }

    [Fact]
    public void ACompletionTwice_CountsOnce()
    {
        var tracker = new OffsetTracker(0);

        Assert.True(tracker.Complete(4));
        Assert.False(tracker.Complete(4));
        Assert.True(tracker.Complete(0));
        Assert.False(tracker.Complete(0));
        Assert.Equal(1, tracker.CompletedAboveCount);
    }

    [Fact]
    public void ARange_CountsOnlyWhatWasNotDone_AndMergesWithItsNeighbours()
    {
        var tracker = new OffsetTracker(0);
        tracker.Complete(5);
        tracker.Complete(9);

        Assert.Equal(6, tracker.CompleteRange(3, 11));
        Assert.Equal(0, tracker.LowestIncomplete);
        Assert.Equal([3L, 8], tracker.ToRanges());

        Assert.Equal(3, tracker.CompleteRange(0, 3));
        Assert.Equal(11, tracker.LowestIncomplete);
    }

    [Fact]
    public void TheRanges_RestoreTheSameOffsets()
    {
        var tracker = new OffsetTracker(100);
        var random = new Random(7);
        var completed = Enumerable.Range(101, 400).Where(_ => random.Next(3) == 0).Select(o => (long)o).ToList();
        foreach (var offset in completed)
        {
            tracker.Complete(offset);
        }

        var restored = new OffsetTracker(tracker.LowestIncomplete, tracker.ToRanges());

        Assert.Equal(tracker.CompletedAboveCount, restored.CompletedAboveCount);
        Assert.All(Enumerable.Range(90, 420), o => Assert.Equal(tracker.IsDone(o), restored.IsDone(o)));
        Assert.All(tracker.ToRanges(), n => Assert.InRange(n, 1, 400));
    }

    [Theory]
    [InlineData(new long[] { 1 })]
    [InlineData(new long[] { 0, 3 })]
    [InlineData(new long[] { 2, 0 })]
    [InlineData(new long[] { 1, -4 })]
    [InlineData(new long[] { 1, 2_000_001 })]
    public void RangesThatCannotBeRight_AreRefused(long[] ranges) =>
        Assert.Throws<InvalidDataException>(() => new OffsetTracker(0, ranges));
}
