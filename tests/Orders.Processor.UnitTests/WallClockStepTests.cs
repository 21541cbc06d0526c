using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.UnitTests.Fakes;
using static Orders.Processor.UnitTests.RecordProcessingTests;

namespace Orders.Processor.UnitTests;

/// <summary>
/// The wall clock stepped under a running processor (NTP, a virtual machine restored): due times and time-outs
/// follow the monotonic clock, so neither a step forward nor one back changes when anything happens.
/// </summary>
public sealed class WallClockStepTests
{
    [Fact]
    public async Task DeadLetterWriteFailingOnce_WallClockSteppedForwardPastItsTimeOut_IsRetriedAndWritten_NotAStop()
    {
        var run = new LoopHarness(o => o.DeadLetterTimeout = TimeSpan.FromMinutes(2), wallClock: true);
        run.Consumer.Append(0, LoopHarness.Order(-1));
        run.Producer.FailNext(ErrorCode.NotEnoughReplicas, times: 2);
        run.When(() => run.Counters.DeadLetterWriteFailures == 1, () => (run.WallClock.StepAt, run.WallClock.Step) = (run.Time.GetUtcNow(), TimeSpan.FromMinutes(3)));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, summary.Counters.DeadLetterWriteFailures);
        Assert.Single(run.DeadLetters);
        Assert.Equal(1, summary.Counters.DeadLetteredByReason[DeadLetterHeaders.ReasonInvalid]);
        Assert.Equal(1, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task HandlerRetry_WallClockSteppedBackAnHour_IsRetriedAfterItsBackoff_NotAnHourLater()
    {
        var handler = new ScriptedHandler(failuresFor: new() { ["b"] = 1 });
        var run = new LoopHarness(handler: handler, wallClock: true);
        run.Consumer.Append(0, LoopHarness.Order(1, key: "a"), LoopHarness.Order(2, key: "b"));
        run.When(() => run.Counters.Retried == 1, () => (run.WallClock.StepAt, run.WallClock.Step) = (run.Time.GetUtcNow(), TimeSpan.FromHours(-1)));
        run.Consumer.Assign(0);
        var started = run.Time.GetUtcNow();

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["a", "b", "b"], handler.Calls);
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(2, summary.View.Partitions[0].CheckpointedOffset);
        // The run: the retry's backoff (100-400 ms), then --until-idle's 2 s; not the hour the wall clock went back.
        Assert.InRange(run.Time.GetUtcNow() - started, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Checkpoints_WallClockSteppedBackAnHour_AreStillTakenEveryInterval()
    {
        var run = new LoopHarness(o => (o.CheckpointInterval, o.UntilIdle) = (TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)), wallClock: true);
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.When(() => run.Counters.Processed == 1, () => (run.WallClock.StepAt, run.WallClock.Step) = (run.Time.GetUtcNow(), TimeSpan.FromHours(-1)));
        var checkpointedWhileRunning = false;
        run.When(() => run.Checkpoints.Count > 0, () => checkpointedWhileRunning = true);
        run.Consumer.Assign(0);

        await run.RunAsync(TestContext.Current.CancellationToken);

        // Due one interval after the partition started, long before the 10 s of idleness end the run (and its close checkpoints it anyway).
        Assert.True(checkpointedWhileRunning);
    }
}
