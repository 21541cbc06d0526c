using Confluent.Kafka;
using Orders.Processor.Loop;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>The loop's own rules: when it stops, what stops it, what it shrugs off.</summary>
public sealed class LoopTests
{
    [Fact]
    public async Task EveryLogCategory_NamesAClassOfTheProcessor()
    {
        var run = new LoopHarness(o => o.UntilIdle = TimeSpan.FromSeconds(2));
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);

        await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.NotEmpty(run.Loggers.Categories);
        Assert.All(run.Loggers.Categories, category => Assert.NotNull(typeof(Loop.ConsumeLoop).Assembly.GetType(category)));
        Assert.Contains(typeof(Checkpoints.CheckpointWriter).FullName, run.Loggers.Categories);
    }

    [Fact]
    public async Task UntilIdle_StopsOnceNothingArrivedForTheIdleTime_WithEverythingCheckpointed()
    {
        var run = new LoopHarness(o => o.UntilIdle = TimeSpan.FromSeconds(3));
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);
        var started = run.Time.GetUtcNow();

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        // From the end of the last outstanding work: the checkpoint, a second after the record.
        Assert.InRange(run.Time.GetUtcNow() - started, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
        Assert.Equal(1, run.Logs.Count(12));
        Assert.Empty(summary.NotCheckpointed);
    }

    [Fact]
    public async Task UntilIdle_ARestoreOnAssignmentThatOutlastsTheIdleTime_CountsIdleFromItsEnd_TheRecordsAreRead()
    {
        // The checkpoints' broker slow to answer: the restore inside the assignment's callback blocks
        // the loop for longer than --until-idle, then succeeds.
        // As with a real client, the poll that ran the callback brings no record; the next one does.
        var run = new LoopHarness(o => o.UntilIdle = TimeSpan.FromSeconds(3));
        run.Stored.OnRead = () => run.Time.Advance(TimeSpan.FromSeconds(10));
        run.When(() => run.Stored.Reads > 0, () => run.Consumer.Append(0, LoopHarness.Order(1), LoopHarness.Order(2)));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, run.Stored.Reads);
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Empty(summary.NotCheckpointed);
        Assert.Equal(2, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task UntilIdle_NeverAssigned_GivesUpNamingTheTopicAndGroup()
    {
        var run = new LoopHarness(o => (o.UntilIdle, o.FirstAssignmentWait) = (TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(15)));

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Equal(
            "no partition of orders was assigned to group g within 15 s (more processors than partitions, the group coordinator unreachable, " +
            "or a group protocol the broker does not serve: group.protocol=consumer needs Kafka 4.0 or later with group.version finalised)",
            error.Message);
    }

    [Fact]
    public async Task WithoutUntilIdle_ItRunsUntilCancelled_ThenClosesCleanly()
    {
        var run = new LoopHarness(o => o.UntilIdle = null);
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Time.GetUtcNow() > new DateTimeOffset(2026, 12, 2, 13, 0, 0, TimeSpan.Zero), stop.Cancel);

        var summary = await run.RunAsync(stop.Token);

        Assert.Equal(1, summary.Counters.Processed);
        Assert.True(run.Consumer.Closed);
    }

    [Fact]
    public async Task AFatalErrorFromAnotherThread_StopsTheLoop_AndTheRunEndsWithIt()
    {
        var run = new LoopHarness(o => o.UntilIdle = null);
        run.Consumer.Assign(0);
        var fatal = new KafkaException(new Error(ErrorCode.Local_Fatal, "producer fenced", isFatal: true));
        run.When(() => run.Parts.Table.OwnedCount == 1, () => Task.Run(() => run.Fatal.Set(fatal)).Wait());

        var error = await Assert.ThrowsAsync<KafkaException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Same(fatal, error);
        Assert.True(run.Consumer.Closed);
    }

    [Fact]
    public async Task AFatalConsumeError_Stops_WhileAPassingOneIsLoggedAndShruggedOff()
    {
        var run = new LoopHarness(o => o.UntilIdle = null);
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);
        run.Consumer.Errors.Enqueue(new ConsumeException(new ConsumeResult<byte[], byte[]>(), new Error(ErrorCode.UnknownTopicOrPart)));
        run.When(
            () => run.Counters.Processed == 1,
            () => run.Consumer.Errors.Enqueue(new ConsumeException(new ConsumeResult<byte[], byte[]>(), new Error(ErrorCode.Local_Fatal, "fatal", isFatal: true))));

        var error = await Assert.ThrowsAsync<KafkaException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.True(error.Error.IsFatal);
        Assert.Equal(1, run.Logs.Count(19));
        Assert.Equal(1, run.Counters.Processed);
    }

    [Fact]
    public void FatalSignal_KeepsTheFirstError_FromWhicheverThreadItCame()
    {
        var signal = new FatalSignal();
        var errors = Enumerable.Range(0, 16).Select(i => new InvalidOperationException($"error {i}")).ToList();

        Parallel.ForEach(errors, signal.Set);

        Assert.True(signal.IsSet);
        Assert.Contains(signal.Error, errors);
        var first = signal.Error;
        signal.Set(new InvalidOperationException("later"));
        Assert.Same(first, signal.Error);
    }

    [Fact]
    public async Task TheView_IsPublishedForTheStatusReaders_WhileTheLoopRuns()
    {
        var run = new LoopHarness(o => o.UntilIdle = null);
        run.Consumer.Append(1, LoopHarness.Order(4), LoopHarness.Order(6));
        run.Consumer.Assign(1);
        using var stop = new CancellationTokenSource();
        Orders.Processor.Observability.ProcessorView? seen = null;
        run.When(
            () => run.Status.View.Aggregates.Count == 2,
            () =>
            {
                seen = run.Status.View;
                stop.Cancel();
            });

        await run.RunAsync(stop.Token);

        Assert.NotNull(seen);
        Assert.Equal(10m, seen.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(2, seen.Partitions[1].NextOffset);
        Assert.True(seen.EverAssigned);
    }
}
