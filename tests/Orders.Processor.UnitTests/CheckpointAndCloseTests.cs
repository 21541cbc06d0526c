using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.DeadLetters;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.Partitions;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>Checkpoint holds, dead letters that are slow or never written, and the bounded close, through the real loop over fake ports.</summary>
public sealed class CheckpointAndCloseTests
{
    [Fact]
    public async Task DeadLettersUnacknowledgedPastTheHold_HoldThePartition_UntilTheyDrain_ThenCheckpointAndResume()
    {
        var run = new LoopHarness(o => o.UntilIdle = TimeSpan.FromSeconds(5));
        run.Consumer.Append(0, LoopHarness.Order(-1), LoopHarness.Order(10), LoopHarness.Order(10));
        run.Producer.AutoAcknowledge = false;
        run.Producer.Stalled = true;
        run.Consumer.Assign(0);
        var sawHeld = false;
        run.When(() => run.Consumer.IsPaused(0), () =>
        {
            sawHeld = true;
            Assert.Empty(run.Checkpoints);
            run.Producer.Stalled = false;
            run.Producer.AutoAcknowledge = true;
            run.Producer.Deliver();
        });

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(sawHeld, "the partition was never held for its checkpoint");
        Assert.False(run.Consumer.IsPaused(0));
        Assert.Single(run.DeadLetters);
        Assert.Equal(3, summary.View.Partitions[0].CheckpointedOffset);
        Assert.Equal(3, run.Consumer.Stored[0]);
    }

    [Fact]
    public void TheCheckpointHoldsEnd_DoesNotResumeAPartitionThatAlsoWaitsForARetryOfItsOwn()
    {
        var run = new LoopHarness();
        var state = Held(run, 0)[0];
        state.Advance(0);
        run.Parts.Fetch.Hold(state.Partition, Partitions.FetchHold.Checkpoint);
        run.Parts.Fetch.WaitToRead(new TopicPartitionOffset(state.Partition, 1), failures: 1, registryWaits: 0, TimeSpan.FromMinutes(1), Partitions.FetchHold.Retry);
        run.Parts.Checkpoints.Prepare();
        run.Time.Advance(TimeSpan.FromSeconds(5));

        run.Parts.Checkpoints.CheckpointDue();

        Assert.Equal(Partitions.FetchHold.Retry, run.Parts.Fetch.HeldFor(state.Partition));
        Assert.Single(run.Checkpoints);
        Assert.True(run.Consumer.IsPaused(0));
    }

    [Fact]
    public void CheckpointsAcknowledgedWhileOthersAreCheckpointedForARevoke_StoreTheirOffsetsToo()
    {
        var run = new LoopHarness();
        var held = Held(run, 0, 1);
        var (revoked, kept) = (held[0], held[1]);
        revoked.Advance(0);
        kept.Advance(0);
        run.Producer.AutoAcknowledge = false;
        run.Parts.Checkpoints.Prepare();
        run.Time.Advance(TimeSpan.FromSeconds(5));
        run.Parts.Checkpoints.CheckpointDue();
        Assert.Equal(2, run.Producer.Pending);
        revoked.Advance(1);

        // Waiting for the revoked partition's checkpoints acknowledges the kept one's too.
        run.Parts.Checkpoints.CheckpointAndStore([revoked], run.Time.GetTimestamp() + (10 * run.Time.TimestampFrequency));
        run.Parts.Checkpoints.Pump();

        Assert.Equal(2, run.Consumer.Stored[0]);
        Assert.Equal(1, run.Consumer.Stored[1]);
    }

    [Fact]
    public void ARevokeWhileTheCheckpointSchemasRegistrationIsInFlight_CheckpointsOnceTheRegistryAnswers()
    {
        // The loop starts the registration and, inside a revoke's callback, waits for it without ever
        // running what is posted to its thread: the registration must complete off that thread.
        var run = new LoopHarness();
        var revoked = Held(run, 0)[0];
        revoked.Advance(0);
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        run.Registry.RegisterGate = answer;
        var thread = new Thread(() => LoopThread.Run(() =>
        {
            run.Parts.Checkpoints.Prepare();
            // The registry answers as the revoke begins; the revoke's deadline (10 s of the test's clock) comes a second later.
            _ = Task.Run(async () =>
            {
                answer.SetResult();
                for (var i = 0; i < 200; i++)
                {
                    await Task.Delay(10);
                    run.Time.Advance(TimeSpan.FromMilliseconds(100));
                }
            });
            run.Parts.Checkpoints.CheckpointAndStore([revoked], run.Time.GetTimestamp() + (10 * run.Time.TimestampFrequency));
            return Task.CompletedTask;
        }))
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the revoke never ended");

        Assert.Single(run.Checkpoints);
        Assert.Equal(1, run.Consumer.Stored[0]);
    }

    [Fact]
    public void ACheckpointAcknowledgedAfterItsPartitionWasRevokedAndAssignedAgain_StoresNoOffsetForTheNewOwnership()
    {
        var run = new LoopHarness(o => o.RevokeTimeout = TimeSpan.FromSeconds(1));
        run.Time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(10);
        var first = Held(run, 0)[0];
        first.Advance(0);
        first.Advance(1);
        first.Advance(2);
        run.Parts.Checkpoints.Prepare();
        run.Producer.AutoAcknowledge = false;
        run.Producer.Stalled = true;

        // Revoked with its checkpoint (of offset 3) unacknowledged past the revoke's deadline; assigned again, restored from nothing.
        run.Consumer.Revoke(0);
        run.Consumer.Consume(TimeSpan.Zero);
        run.Consumer.Assign(0);
        run.Consumer.Consume(TimeSpan.Zero);
        Assert.True(run.Parts.Table.TryGet(0, out var second));
        Assert.NotSame(first, second);
        Assert.DoesNotContain(0, run.Consumer.Stored.Keys);
        run.Producer.Stalled = false;
        run.Producer.Deliver();
        run.Parts.Checkpoints.Pump();

        Assert.Single(run.Checkpoints);
        Assert.DoesNotContain(0, run.Consumer.Stored.Keys);
    }

    [Fact]
    public async Task DeadLetterWriteFails_IsRetried_AndNoCheckpointCoversItsRecordUntilItIsWritten()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(-1));
        run.Producer.FailNext(ErrorCode.NotEnoughReplicas, times: 2);
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, summary.Counters.DeadLetterWriteFailures);
        Assert.Single(run.DeadLetters);
        Assert.Equal(1, summary.Counters.DeadLetteredByReason[DeadLetterHeaders.ReasonInvalid]);
        Assert.Equal(1, summary.View.Partitions[0].CheckpointedOffset);
        Assert.Equal(2, run.Logs.Count(41));
    }

    [Fact]
    public async Task DeadLetterThatCanNeverBeWritten_StopsTheProcessor_AndItsRecordIsLeftForTheNextRun()
    {
        var run = new LoopHarness(o => o.DeadLetterTimeout = TimeSpan.FromSeconds(2));
        run.Consumer.Append(0, LoopHarness.Order(-1));
        run.Producer.FailNext(ErrorCode.TopicAuthorizationFailed, times: 1000);
        run.Consumer.Assign(0);

        var error = await Assert.ThrowsAsync<DeadLetterWriteException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Contains("orders[0]@0", error.Message, StringComparison.Ordinal);
        Assert.Empty(run.Checkpoints);
        Assert.DoesNotContain(0, run.Consumer.Stored.Keys);
    }

    [Fact]
    public async Task Close_WithADeadLetterUnacknowledgedPastTheRevokeTimeout_GivesItItsLastWaitBeforeLeavingTheGroup()
    {
        // Flushed after leaving, a letter landing then may be missed by the next owner's restore, which decides its record again.
        var run = new LoopHarness(o => (o.RevokeTimeout, o.UntilIdle) = (TimeSpan.FromSeconds(2), null));
        run.Consumer.Append(1, LoopHarness.Order(5), LoopHarness.Order(-5));
        run.Consumer.Assign(1);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Counters.Processed == 1 && run.Producer.Pending > 0, stop.Cancel);
        run.Producer.Stalled = true;
        bool? heldWhenFlushed = null;
        run.Producer.BeforeFlush = timeout =>
        {
            if (timeout == ProcessorOptions.FinalFlush)
            {
                heldWhenFlushed = !run.Consumer.Closed;
                run.Producer.Stalled = false;
            }
        };

        await run.RunAsync(stop.Token);

        Assert.True(heldWhenFlushed);
        Assert.Single(run.DeadLetters);
        Assert.True(run.Consumer.Closed);
    }

    [Fact]
    public async Task Close_ADeadLetterWhoseRetryFallsDueDuringTheLastWait_IsNotSentAgainAfterIt()
    {
        // Sent after the last wait, nothing would wait for it: it would land after the group is left, or go with the producer.
        var run = new LoopHarness(o => (o.RevokeTimeout, o.UntilIdle, o.RetryBaseDelay, o.RetryMaxDelay) = (TimeSpan.FromSeconds(2), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        run.Consumer.Append(1, LoopHarness.Order(5), LoopHarness.Order(-5));
        run.Consumer.Assign(1);
        run.Producer.FailNext(ErrorCode.NotLeaderForPartition, times: 1000);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Counters.Processed == 1 && run.Counters.DeadLetterWriteFailures > 0, stop.Cancel);
        var producedAtTheLastWait = -1;
        run.Producer.BeforeFlush = timeout =>
        {
            if (timeout == ProcessorOptions.FinalFlush)
            {
                producedAtTheLastWait = run.Producer.Produced;
            }

            // Each wait for a broker that fails the letter takes its time (the letter's retry falls due during the last).
            run.Time.Advance(timeout);
        };

        var summary = await run.RunAsync(stop.Token);

        Assert.True(producedAtTheLastWait > 0);
        Assert.Equal(producedAtTheLastWait, run.Producer.Produced);
        Assert.Equal([1], summary.NotCheckpointed);
    }

    [Fact]
    public async Task Close_ACheckpointAcknowledgedDuringTheLastWait_StoresItsOffset_AndThePartitionIsCheckpointed()
    {
        var run = new LoopHarness(o => (o.RevokeTimeout, o.UntilIdle, o.CheckpointInterval) = (TimeSpan.FromSeconds(2), null, TimeSpan.FromHours(1)));
        run.Consumer.Append(1, LoopHarness.Order(5), LoopHarness.Order(7));
        run.Consumer.Assign(1);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Counters.Processed == 2, () =>
        {
            run.Producer.Stalled = true;
            stop.Cancel();
        });
        run.Producer.BeforeFlush = timeout =>
        {
            if (timeout == ProcessorOptions.FinalFlush)
            {
                run.Producer.Stalled = false;
            }
        };

        var summary = await run.RunAsync(stop.Token);

        Assert.Single(run.Checkpoints);
        Assert.Empty(summary.NotCheckpointed);
        Assert.Equal(2, run.Consumer.Stored[1]);
    }

    [Fact]
    public async Task DeadLetter_IsWrittenToTheDeadLetterPartitionItsPartitionWasRestoredWith_WhereTheNextRestoreReadsIt()
    {
        // One decision, made where the restore reads the letters back (the layout's, in a run): the writer follows it.
        var run = new LoopHarness(partitions: 4);
        run.Stored.DeadLetterPartitionFor = _ => 1;
        run.Consumer.Append(3, LoopHarness.Order(-1));
        run.Consumer.Assign(3);

        await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.Producer.Written, w => w.Partition.Topic == run.Layout.DeadLetterTopic);
        Assert.Equal(1, letter.Partition.Partition.Value);
    }

    [Fact]
    public async Task DeadLetterRefusedAsTheProducersQueueIsFull_IsSentAgain_AndStopsTheProcessorOnceItOutlastsTheTimeout()
    {
        var run = new LoopHarness(o => o.DeadLetterTimeout = TimeSpan.FromSeconds(2));
        run.Consumer.Append(0, LoopHarness.Order(-1));
        run.Producer.FailNext(ErrorCode.Local_QueueFull, times: 100_000);
        run.Consumer.Assign(0);

        var error = await Assert.ThrowsAsync<DeadLetterWriteException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Contains("orders[0]@0", error.Message, StringComparison.Ordinal);
        Assert.Contains("Local_QueueFull", error.Message, StringComparison.Ordinal);
        Assert.Empty(run.DeadLetters);
        Assert.Empty(run.Checkpoints);
    }

    [Fact]
    public async Task DeadLetterRefusedAsTheProducersQueueIsFull_ForAWhile_IsWrittenOnceTheQueueHasRoom()
    {
        var run = new LoopHarness(o => o.DeadLetterTimeout = TimeSpan.FromSeconds(2));
        run.Consumer.Append(0, LoopHarness.Order(-1), LoopHarness.Order(10));
        run.Producer.FailNext(ErrorCode.Local_QueueFull, times: 50);
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Single(run.DeadLetters);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Empty(summary.NotCheckpointed);
    }

    [Fact]
    public async Task Close_CheckpointsEveryHeldPartition_AndLeavesTheGroup()
    {
        var run = new LoopHarness(o => o.CheckpointInterval = TimeSpan.FromHours(1));
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Append(2, LoopHarness.Order(2), LoopHarness.Order(3));
        run.Consumer.Assign(0, 1, 2);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Empty(summary.NotCheckpointed);
        Assert.Equal(2, run.Checkpoints.Count);
        Assert.Equal(new Dictionary<int, long> { [0] = 1, [2] = 2 }, run.Consumer.Stored);
        Assert.True(run.Consumer.Closed);
        Assert.True(run.Consumer.Closed);
    }

    [Fact]
    public async Task Close_WithADeadLetterNeverAcknowledged_ReportsThePartitionNotCheckpointed_WithinTheRevokeTimeout()
    {
        var run = new LoopHarness(o =>
        {
            o.CheckpointInterval = TimeSpan.FromHours(1);
            o.RevokeTimeout = TimeSpan.FromSeconds(3);
            o.UntilIdle = null;
        });
        run.Consumer.Append(1, LoopHarness.Order(5), LoopHarness.Order(-5));
        run.Consumer.Assign(1);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Counters.Processed == 1 && run.Parts.Table.Owned.Any(s => s.PendingDeadLetters == 1), () => stop.Cancel());
        run.Producer.AutoAcknowledge = false;
        run.Producer.Stalled = true;
        var started = run.Time.GetUtcNow();

        var summary = await run.RunAsync(stop.Token);

        Assert.Equal([1], summary.NotCheckpointed);
        // The close waits the revoke timeout, then the producer's final flush before it leaves the group (whose revoke waits for nothing more).
        Assert.InRange(run.Time.GetUtcNow() - started, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3) + ProcessorOptions.FinalFlush + TimeSpan.FromSeconds(1));
        Assert.True(run.Logs.Count(21) >= 1);
        Assert.Equal(1, run.Logs.Count(28));
        Assert.Empty(run.Checkpoints);
    }

    [Fact]
    public async Task Close_WithWorkThatDoesNotEnd_AndACheckpointNeverAcknowledged_WaitsOneRevokeTimeoutForBoth()
    {
        var handler = new GatedHandler { Immediate = id => id != "stuck" };
        var run = new LoopHarness(
            o =>
            {
                o.CheckpointInterval = TimeSpan.FromHours(1);
                o.RevokeTimeout = TimeSpan.FromSeconds(3);
                o.UntilIdle = null;
            },
            handler);
        run.Time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(1);
        run.Consumer.Append(0, LoopHarness.Order(5, key: "done"), LoopHarness.Order(6, key: "stuck"));
        run.Consumer.Assign(0);
        using var stop = new CancellationTokenSource();
        DateTimeOffset? stopped = null;
        run.When(() => run.Counters.Processed == 1 && handler.IsRunning("stuck"), () =>
        {
            run.Producer.AutoAcknowledge = false;
            run.Producer.Stalled = true;
            stopped = run.Time.GetUtcNow();
            stop.Cancel();
        });

        var summary = await run.RunAsync(stop.Token);

        // Letting the call end and checkpointing share the one revoke timeout (each had its own: 3 + 3 s, then a 10 s flush).
        Assert.Equal([0], summary.NotCheckpointed);
        Assert.NotNull(stopped);
        Assert.InRange(run.Time.GetUtcNow() - stopped.Value, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3) + ProcessorOptions.FinalFlush + TimeSpan.FromSeconds(1));
        Assert.Equal(1, handler.Cancelled);
        // Not silently: the stop, and the call given up on with where it is handled again.
        Assert.Equal(1, run.Logs.Count(69));
        Assert.Contains(run.Logs.Lines, l => l.Id.Id == 68 && l.Text.StartsWith("1 handler calls of partitions 0 did not end within 1.5 s", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_RevokeAndCloseTimeoutsThatDoNotFitAStop_AreRefused()
    {
        var validator = new ProcessorOptionsValidator();

        var fits = validator.Validate(null, new ProcessorOptions { GroupId = "g", RevokeTimeout = TimeSpan.FromSeconds(12), CloseTimeout = TimeSpan.FromSeconds(8) });
        var tooLong = validator.Validate(null, new ProcessorOptions { GroupId = "g", RevokeTimeout = TimeSpan.FromSeconds(15), CloseTimeout = TimeSpan.FromSeconds(10) });

        Assert.True(fits.Succeeded, fits.FailureMessage);
        Assert.False(tooLong.Succeeded);
        Assert.Contains(tooLong.Failures!, f => f.Contains("Processor:RevokeTimeout (15 s) and Processor:CloseTimeout (10 s) must add up to at most 20 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Close_ConsumerThatDoesNotLeaveItsGroup_IsAbandonedAfterTheCloseTimeout_AndItsLateCallbacksDoNothing()
    {
        var run = new LoopHarness(o => o.CloseTimeout = TimeSpan.FromMilliseconds(100));
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);
        using var blocked = new ManualResetEventSlim();
        run.Consumer.CloseBlocks = blocked;

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);
        var closedWhenTheRunEnded = run.Consumer.Closed;
        var checkpointsAtTheEnd = run.Checkpoints.Count;
        blocked.Set();
        await WaitUntil(() => run.Consumer.Closed);

        Assert.False(closedWhenTheRunEnded);
        Assert.Equal(1, run.Logs.Count(24));
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(checkpointsAtTheEnd, run.Checkpoints.Count);
        Assert.Equal(0, run.Logs.Count(3));
    }

    [Fact]
    public async Task Close_AbandonedWhileItsRevokeCallbackRuns_TheRunEndsOnlyAfterThatCallback_NeverBesideIt()
    {
        var run = new LoopHarness(o => o.CloseTimeout = TimeSpan.FromMilliseconds(100));
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);

        // The consumer's close revokes the partition on the close's own thread, and that callback is held
        // inside (at its log line) past the loop's close timeout.
        using var inCallback = new ManualResetEventSlim();
        using var letGo = new ManualResetEventSlim();
        run.Logs.OnLog = id =>
        {
            if (id == 3)
            {
                inCallback.Set();
                letGo.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            }
        };

        // Its loop runs on a thread of its own: the harness's runs until their first wait on the caller's.
        var running = Task.Run(() => run.RunAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        Assert.True(inCallback.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken), "the close did not revoke");

        // Ten close timeouts: before, the run went on after one (flushing, pumping dead letters, ending)
        // while the callback released the same partition's state on the other thread.
        var endedBeside = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken)) == running;
        letGo.Set();
        var summary = await running;

        Assert.False(endedBeside, "the run ended while the revoke callback was still running");
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(1, run.Logs.Count(24));
    }

    [Fact]
    public async Task ACheckpointThatFails_IsCountedAndLogged_AndTheNextOneTriesAgain()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(1));
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed == 1, () => run.Producer.FailNext(ErrorCode.RequestTimedOut));

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(1, summary.Counters.CheckpointFailures);
        Assert.Equal(1, run.Logs.Count(50));
        Assert.Equal(1, summary.View.Partitions[0].CheckpointedOffset);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        Assert.True(condition());
    }

    /// <summary>Assigns the partitions and takes the assignment in one poll, as the loop's first turn does: their states, restored.</summary>
    private static PartitionState[] Held(LoopHarness run, params int[] partitions)
    {
        run.Consumer.Subscribe("orders", run.Parts.Assignments);
        run.Consumer.Assign(partitions);
        run.Consumer.Consume(TimeSpan.Zero);
        run.Parts.Fetch.Pump();
        return [.. partitions.Select(p => run.Parts.Table.TryGet(p, out var state) ? state : throw new InvalidOperationException($"partition {p} is not held"))];
    }
}
