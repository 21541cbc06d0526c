using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>Assignments, restores, revokes and lost partitions, through the real loop over fake ports.</summary>
public sealed class RebalanceTests
{
    [Fact]
    public async Task Assigned_RestoresTheNewestCheckpoint_AndResumesRightAfterIt()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(100), LoopHarness.Order(100), LoopHarness.Order(7));
        run.Stored.Checkpoint(Checkpoint(partition: 0, nextOffset: 2, count: 2, sum: 200m));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, run.Consumer.AssignedAt[0].Value);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(1, summary.Counters.CheckpointsRestored);
        Assert.Equal(3, summary.View.Aggregates.Count);
        Assert.Equal(207m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
    }

    [Fact]
    public async Task Assigned_RestoreThatFails_LeavesThePartitionPaused_AndIsRetriedAfterTheBackoff()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Stored.FailNext(new KafkaException(ErrorCode.Local_TimedOut), new TimeoutException("stats topic unreadable"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(Offset.Beginning, run.Consumer.AssignedAt[0]);
        Assert.Equal(3, run.Stored.Reads);
        Assert.Equal(2, run.Logs.Count(16));
        Assert.Contains(new TopicPartitionOffset(LoopHarness.Topic, 0, 0), run.Consumer.Seeks);
        Assert.False(run.Consumer.IsPaused(0));
        Assert.Equal(1, summary.Counters.Processed);
    }

    [Fact]
    public async Task Assigned_APartitionThatCannotBeRestored_DoesNotHoldBackThoseAssignedWithIt_AndUntilIdleGivesUpNamingIt()
    {
        // Its checkpoints' leader is away (an offline partition): the others' are readable.
        var run = ThreeAssigned(p => p == 2 ? new KafkaException(ErrorCode.Local_UnknownPartition) : null);

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => Bounded(run, TestContext.Current.CancellationToken));

        Assert.Equal(2, run.Counters.Processed);
        // Read together once, then each alone; from then on only partition 2, alone.
        Assert.Equal(1, run.Logs.Count(72));
        Assert.True(run.Logs.Count(16) > 1, "partition 2's restore was not tried again");
        Assert.Contains("orders[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("Local: Unknown partition", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assigned_APartitionWhoseReadTimesOut_DoesNotHoldBackThoseAssignedWithIt_AndUntilIdleGivesUpNamingIt()
    {
        // An offline partition on a real cluster: reading its checkpoints waits for a leader until the read's timeout.
        var run = ThreeAssigned(p => p == 2 ? new TimeoutException("reading orders_stats[2] made no progress for 30 s") : null);

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => Bounded(run, TestContext.Current.CancellationToken));

        Assert.Equal(2, run.Counters.Processed);
        Assert.Equal(1, run.Logs.Count(72));
        Assert.True(run.Logs.Count(16) > 1, "partition 2's restore was not tried again");
        Assert.Contains("orders[2]", error.Message, StringComparison.Ordinal);
        Assert.Contains("made no progress for 30 s", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assigned_PartitionsReadAloneAfterTheirReadTogetherTimedOut_StartEachAsItIsRead_NotWhenTheSlowOneEnds()
    {
        // Read alone in order, 0 is restored while 1's read waits for its broker (until it times out): 0's record
        // must be processed before 1's read is let go.
        var run = ThreeAssigned(
            p => p == 1 ? new TimeoutException("reading orders_stats[1] made no progress for 30 s") : null, o => o.RestoreWait = TimeSpan.FromMilliseconds(50));
        // The read together is the first; partition 1's alone is slow.
        run.Stored.IsSlow = p => p == 1 && run.Stored.Reads > 1;
        run.When(() => run.Counters.Processed == 1, run.Stored.Slow.Set);

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => Bounded(run, TestContext.Current.CancellationToken));

        Assert.Equal(2, run.Counters.Processed);
        Assert.Contains("orders[1]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assigned_TwoPartitionsWhoseReadsTimeOut_TheOthersAreRestored_ThenEachRetryReadsOneOfThemAlone_InTurn()
    {
        // Two offline partitions: the first read reaches every partition alone; after it, a read alone that times
        // out leaves the other slow one for the next retry (another wait as long would delay partitions assigned
        // meanwhile), and the next retry reads the one left, so that each is read in turn.
        var run = new LoopHarness(partitions: 4);
        foreach (var partition in new[] { 0, 1, 2, 3 })
        {
            run.Consumer.Append(partition, LoopHarness.Order(10 + partition));
        }

        run.Stored.FailsFor = p => p is 1 or 2 ? new TimeoutException($"reading orders_stats[{p}] made no progress for 30 s") : null;
        run.Consumer.Assign(0, 1, 2, 3);

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => Bounded(run, TestContext.Current.CancellationToken));

        Assert.Equal(2, run.Counters.Processed);
        var alone = run.Stored.ReadPartitions.Where(r => r.Count == 1).Select(r => r[0]).ToList();
        Assert.Equal([0, 1, 2, 3], alone.Take(4));
        var retries = alone.Skip(4).ToList();
        Assert.True(retries.Count >= 4, string.Join(",", alone));
        Assert.All(retries, p => Assert.True(p is 1 or 2));
        Assert.All(retries.Zip(retries.Skip(1)), pair => Assert.NotEqual(pair.First, pair.Second));
        // Each retry: the two together, then one of them alone.
        var later = run.Stored.ReadPartitions.Skip(5).ToList();
        Assert.All(later.Where((_, i) => i % 2 == 0), r => Assert.Equal([1, 2], r.Order()));
        Assert.All(later.Where((_, i) => i % 2 == 1), r => Assert.Single(r));
        Assert.Contains("orders[1], orders[2]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assigned_ARestoreThatFailedForTheRegistry_IsNotTriedPartitionByPartition_TheBatchWaitsItsRetry()
    {
        // Each alone would fail alike: a registry away is waited for by the batch.
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(20));
        run.Stored.FailNext(new RegistryUnavailableException("refused", new HttpRequestException("refused")));
        run.Consumer.Assign(0, 1);

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal(2, run.Stored.Reads);
        Assert.Equal(0, run.Logs.Count(72));
        Assert.Equal(1, run.Logs.Count(16));
        Assert.Equal(2, summary.Counters.Processed);
    }

    [Fact]
    public async Task Assigned_RestoreWaitingForABroker_IsGivenUpWhenTheProcessorStops_AndTheCloseTouchesNothingOfIt()
    {
        var run = new LoopHarness(o => o.UntilIdle = null);
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Stored.WaitsForCancellation = true;
        using var stop = new CancellationTokenSource();
        // The stop comes from another thread while the restore waits, as SIGTERM does.
        run.Stored.OnRead = () => _ = Task.Run(stop.Cancel, TestContext.Current.CancellationToken);
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(stop.Token).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, run.Stored.Reads);
        Assert.Equal(1, run.Logs.Count(29));
        Assert.Equal(0, run.Logs.Count(16));
        Assert.Equal(0, summary.Counters.Processed);
        Assert.Empty(summary.NotCheckpointed);
        Assert.Empty(run.Checkpoints);
        Assert.Empty(run.Consumer.Stored);
    }

    [Fact]
    public async Task Assigned_WhileARestoreReads_TheViewShowsThePartitionsRestoring_AndTheClosingViewSaysItIsStopping()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(10));
        var seen = new List<ProcessorView>();
        run.Stored.OnRead = () => seen.Add(run.Status.View);
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed == 1, () => run.Consumer.Assign(1));

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        // The second assignment adds partition 1 to a processor whose view showed partition 0 restored.
        Assert.Equal(2, seen.Count);
        Assert.Equal(1, seen[1].Restoring);
        Assert.Contains(0, seen[1].Partitions.Keys);
        Assert.False(seen[1].Stopping);
        Assert.True(summary.View.Stopping);
        Assert.Equal(2, summary.Counters.Processed);
    }

    [Fact]
    public async Task Assigned_RestoreRefusedForCredentials_StopsTheProcessor()
    {
        var run = new LoopHarness();
        run.Stored.FailNext(new Confluent.SchemaRegistry.SchemaRegistryException("Forbidden", System.Net.HttpStatusCode.Forbidden, 403));
        run.Consumer.Assign(0);

        await Assert.ThrowsAsync<RegistryCredentialsException>(() => run.RunAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Assigned_APartitionTheStatsTopicDoesNotHave_StopsWithTheLayoutError()
    {
        var run = new LoopHarness(partitions: 2);
        run.Consumer.Assign(0, 1, 2);

        var error = await Assert.ThrowsAsync<TopicLayoutException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Contains("orders_stats has only 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Assigned_RecordsRetentionDeletedWhileNoOneHeldThePartition_AreCountedAsLost()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, [.. Enumerable.Range(0, 5).Select(_ => LoopHarness.Order(10))]);
        run.Consumer.DeleteBefore(0, 3);
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(3, summary.Counters.SkippedByRetention);
        Assert.Equal(3, summary.View.Aggregates.SkippedByRetention);
        Assert.Equal(2, summary.Counters.Processed);
    }

    [Fact]
    public async Task Assigned_DeadLettersOnRecord_AreHonouredWhenTheirRecordsComeRound_NotWrittenAgain()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10), LoopHarness.Order(-1), LoopHarness.Order(10));
        run.Stored.DeadLettered(0, offset: 1, DeadLetterHeaders.ReasonInvalid, deadLetterOffset: 4);
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Empty(run.DeadLetters);
        Assert.Equal(1, summary.Counters.Honoured);
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(1, summary.View.Aggregates.DeadLettered[DeadLetterHeaders.ReasonInvalid]);
    }

    [Fact]
    public async Task Revoked_CheckpointsAndStoresTheCoveredOffset_ThenReleasesThePartition()
    {
        var run = new LoopHarness(o => o.CheckpointInterval = TimeSpan.FromHours(1));
        run.Consumer.Append(0, LoopHarness.Order(10), LoopHarness.Order(20));
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed >= 2, () => run.Consumer.Revoke(0));

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        // Stored, not committed (the port has no commit): librdkafka commits stored offsets as it removes partitions.
        Assert.Equal(2, run.Consumer.Stored[0]);
        Assert.Single(run.Checkpoints);
        Assert.Empty(summary.View.Partitions);
        Assert.Equal(1, run.Logs.Count(3));
    }

    [Fact]
    public async Task Revoked_WhilePausedForTheRegistry_ThePartitionComesBackUnpaused()
    {
        var run = new LoopHarness(o => o.RetryBaseDelay = o.RetryMaxDelay = TimeSpan.FromSeconds(30));
        run.Registry.FailingLookups = 1;
        run.Consumer.Append(0, LoopHarness.Order(10, key: "k"));
        run.Consumer.Assign(0);
        var revokedAndBack = false;
        run.When(() => run.Counters.RegistryWaits > 0, () =>
        {
            Assert.True(run.Consumer.IsPaused(0));
            run.Consumer.Revoke(0);
            run.Consumer.Assign(0);
            revokedAndBack = true;
        });

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.True(revokedAndBack);
        Assert.False(run.Consumer.IsPaused(0));
        Assert.Equal(1, summary.Counters.Processed);
    }

    [Fact]
    public async Task Lost_PartitionsAreDroppedWithoutWritingACheckpoint()
    {
        var run = new LoopHarness(o => o.CheckpointInterval = TimeSpan.FromHours(1));
        run.Consumer.Append(0, LoopHarness.Order(10), LoopHarness.Order(20));
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed >= 2, () => run.Consumer.Lose(0));

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Empty(run.Checkpoints);
        Assert.DoesNotContain(0, run.Consumer.Stored.Keys);
        Assert.Empty(summary.View.Partitions);
        Assert.Equal(1, run.Logs.Count(4));
    }

    [Fact]
    public async Task Assigned_ARestoreSlowerThanTheWait_ReadsOnOffTheLoopsThread_WhileThePartitionsHeldAreProcessed_ThenStartsAtItsCheckpoint()
    {
        // The checkpoints' broker slow to answer for partition 1: the loop waits for its read a moment, then
        // goes on with partition 0. The read is let go only once partition 0 has processed a record appended
        // after it began; were the loop waiting for the read, neither would ever happen.
        var run = new LoopHarness(o => o.RestoreWait = TimeSpan.FromMilliseconds(50));
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(100), LoopHarness.Order(100), LoopHarness.Order(7));
        run.Stored.Checkpoint(Checkpoint(partition: 1, nextOffset: 2, count: 2, sum: 200m));
        run.Stored.IsSlow = p => p == 1;
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed == 1, () => run.Consumer.Assign(1));
        run.When(() => run.Stored.Reads == 2 && run.Consumer.IsAssigned(1), () => run.Consumer.Append(0, LoopHarness.Order(20)));
        run.When(() => run.Counters.Processed == 2, run.Stored.Slow.Set);

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        // Assigned before its state was read, paused; started at its checkpoint once read.
        Assert.Equal(Offset.Beginning, run.Consumer.AssignedAt[1]);
        Assert.Contains(new TopicPartitionOffset(LoopHarness.Topic, 1, 2), run.Consumer.Seeks);
        Assert.Equal(3, summary.Counters.Processed);
        Assert.Equal(1, summary.Counters.CheckpointsRestored);
        Assert.Equal(237m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(3, summary.View.Partitions[1].CheckpointedOffset);
    }

    [Fact]
    public async Task Revoked_WhileItsRestoreReads_WhatThatReadFindsIsNotRestored_AndTheNextAssignmentReadsAfresh()
    {
        // Partitions 1 and 2 are read together; 1 is revoked while they are read (2 is still held, so the read goes
        // on), another member processes offset 1 and checkpoints it, and partition 1 comes back: the first read's
        // checkpoint (at offset 1) would count that order twice.
        var run = new LoopHarness(o => o.RestoreWait = TimeSpan.FromMilliseconds(50));
        run.Consumer.Append(1, LoopHarness.Order(100), LoopHarness.Order(100), LoopHarness.Order(7));
        run.Consumer.Append(2, LoopHarness.Order(5));
        run.Stored.Checkpoint(Checkpoint(partition: 1, nextOffset: 1, count: 1, sum: 100m));
        run.Stored.IsSlow = p => p is 1 or 2;
        run.Consumer.Assign(1, 2);
        run.When(() => run.Stored.Reads == 1 && run.Consumer.IsAssigned(1), () =>
        {
            run.Consumer.Revoke(1);
            run.Stored.Checkpoint(Checkpoint(partition: 1, nextOffset: 2, count: 2, sum: 200m));
            run.Consumer.Assign(1);
        });
        run.When(() => run.Logs.Count(2) == 2, run.Stored.Slow.Set);

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal(2, run.Stored.Reads);
        Assert.Equal(1, run.Logs.Count(73));
        Assert.Equal(0, run.Logs.Count(75));
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(212m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(4, summary.View.Aggregates.Count);
    }

    [Fact]
    public async Task Revoked_EveryPartitionOfARestoreUnderWay_TheReadIsGivenUp_AndTheNextAssignmentIsReadWithoutWaitingForIt()
    {
        // Under the classic protocol every rebalance revokes everything: a read of a broker that does not answer
        // (it never does here) held each partition assigned after it until its timeouts.
        var run = new LoopHarness(o => o.RestoreWait = TimeSpan.FromMilliseconds(50));
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(20));
        run.Stored.IsSlow = p => p == 1;
        run.Consumer.Assign(1);
        run.When(() => run.Stored.Reads == 1 && run.Consumer.IsAssigned(1), () =>
        {
            run.Consumer.Revoke(1);
            run.Consumer.Assign(0);
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);
        await run.Stored.SlowReadCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, run.Logs.Count(75));
        Assert.Equal(0, run.Logs.Count(29));
        Assert.Equal(2, run.Stored.Reads);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal([0], summary.View.Partitions.Keys);
        Assert.Equal(10m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
    }

    [Fact]
    public async Task Revoked_OneOfTwoPartitionsWhileTheirReadTogetherIsUnderWay_ItIsNotReadAloneAfterTheReadTogetherTimedOut()
    {
        // Incremental rebalancing (cooperative-sticky, KIP-848) revokes some partitions only: the read goes on for
        // the other, but reading the revoked one alone would hold the reader up to a timeout for a result it drops.
        var run = OneOrderInEachOfPartitions1And2();
        run.Stored.IsSlow = p => run.Stored.Reads == 1;
        run.Stored.FailsFor = p => run.Stored.Reads == 1 ? new TimeoutException("reading orders_stats[1] made no progress for 30 s") : null;
        run.Consumer.Assign(1, 2);
        run.When(() => run.Stored.Reads == 1 && run.Consumer.IsAssigned(2), () => run.Consumer.Revoke(2));
        run.When(() => run.Stored.Reads == 1 && !run.Consumer.IsAssigned(2), run.Stored.Slow.Set);

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal([[1, 2], [1]], run.Stored.ReadPartitions);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(0, run.Logs.Count(75));
    }

    [Fact]
    public async Task Revoked_WhileItsReadAloneWaitsForItsBroker_ThePartitionIsNotRememberedAsSlow_WhenThatReadTimesOut()
    {
        // Remembered as slow, a partition that comes back is read after the others and may be left for a later attempt.
        var run = OneOrderInEachOfPartitions1And2();
        run.Stored.FailsFor = p => run.Stored.Reads == 1 || (p == 1 && run.Stored.Reads == 2) ? new TimeoutException("reading orders_stats[1] made no progress for 30 s") : null;
        run.Stored.IsSlow = p => p == 1 && run.Stored.Reads == 2;
        run.Consumer.Assign(1, 2);
        run.When(() => run.Stored.Reads == 2 && run.Consumer.IsAssigned(1), () => run.Consumer.Revoke(1));
        run.When(() => run.Stored.Reads == 2 && !run.Consumer.IsAssigned(1), run.Stored.Slow.Set);
        bool? slowOnceRead = null;
        run.When(() => run.Counters.Processed == 1, () => slowOnceRead = run.Parts.Restorer.KnownSlow(1));

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal([[1, 2], [1], [2]], run.Stored.ReadPartitions);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.False(slowOnceRead);
    }

    [Fact]
    public async Task Revoked_TheOnlyPartitionItHasNotFinished_ARestoreReadGivesUp_ThoughAnotherStillWaitsForItsRetry()
    {
        // Partition 1's reads are refused (it waits for its retry, still restoring); partition 2's alone waits for a
        // broker that does not answer. Revoking 2 leaves the read nothing to find that anyone wants.
        var run = new LoopHarness(o => (o.RestoreWait, o.UntilIdle) = (TimeSpan.FromMilliseconds(50), null));
        run.Consumer.Append(1, LoopHarness.Order(10));
        run.Consumer.Append(2, LoopHarness.Order(20));
        run.Stored.FailsFor = p => p == 1 ? new KafkaException(ErrorCode.NotLeaderForPartition) : null;
        run.Stored.IsSlow = p => p == 2 && run.Stored.Reads == 3;
        run.Consumer.Assign(1, 2);
        run.When(() => run.Stored.Reads == 3 && run.Consumer.IsAssigned(2), () => run.Consumer.Revoke(2));
        using var stop = new CancellationTokenSource();
        run.When(() => run.Stored.SlowReadCancelled.Task.IsCompleted, stop.Cancel);

        await Bounded(run, stop.Token);

        Assert.Equal(1, run.Logs.Count(75));
        Assert.Contains(run.Logs.Lines, l => l.Id.Id == 75 && l.Text.Contains("orders[2]", StringComparison.Ordinal));
        Assert.Equal([[1, 2], [1], [2]], run.Stored.ReadPartitions.Take(3));
    }

    [Fact]
    public async Task Assigned_WhileARestoreReadIsUnderWay_IsReadThroughTheSpareSource_WithoutWaitingForIt()
    {
        // Partition 1's checkpoints' broker does not answer (until the test lets it); partition 2 comes while it is read.
        var run = OneOrderInEachOfPartitions1And2();
        run.Stored.IsSlow = p => p == 1;
        run.Consumer.Assign(1);
        run.When(() => run.Stored.Reads == 1 && run.Consumer.IsAssigned(1), () => run.Consumer.Assign(2));
        var firstReadStillUnderWay = false;
        run.When(() => run.Counters.Processed == 1, () =>
        {
            firstReadStillUnderWay = !run.Stored.Slow.IsSet && run.Parts.Restorer.Reading;
            run.Stored.Slow.Set();
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.True(firstReadStillUnderWay);
        Assert.Equal([[1], [2]], run.Stored.ReadPartitions);
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(30m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
    }

    [Fact]
    public async Task Assigned_WhileAnotherReadHasEndedButIsNotTakenIn_ThatReadsPartitionsAreResumedAll_NotLeftPausedByTheCallback()
    {
        // The callback's restore takes in its own read only: partition 1's, ended meanwhile, is the housekeeping's,
        // which resumes what it takes in (the callback resumes only the partitions it was given).
        var run = OneOrderInEachOfPartitions1And2();
        run.Stored.IsSlow = p => p == 1;
        run.Consumer.Assign(1);
        run.When(() => run.Stored.Reads == 1 && run.Consumer.IsAssigned(1), () =>
        {
            run.Stored.Slow.Set();
            Assert.True(SpinWait.SpinUntil(() => run.Parts.Restorer.AnyReadEnded, TimeSpan.FromSeconds(10)));
            run.Consumer.Assign(2);
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(30m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
    }

    [Fact]
    public async Task Due_APartitionARestoreReadHasFailed_IsReadThroughTheSpareSource_WhileThatReadGoesOnForAnother()
    {
        // Read together, refused for partition 1; then alone: 1 refused again (its retry is due 400 ms later), 2 waiting
        // for a broker that does not answer. 1's retry need not wait for 2's read to end.
        var run = OneOrderInEachOfPartitions1And2();
        run.Stored.FailsFor = p => p == 1 && run.Stored.Reads <= 2 ? new KafkaException(ErrorCode.NotLeaderForPartition) : null;
        run.Stored.IsSlow = p => p == 2 && run.Stored.Reads == 3;
        run.Consumer.Assign(1, 2);
        var secondStillRead = false;
        run.When(() => run.Counters.Processed == 1, () =>
        {
            secondStillRead = !run.Stored.Slow.IsSet && run.Parts.Restorer.Reading;
            run.Stored.Slow.Set();
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.True(secondStillRead);
        Assert.Equal([[1, 2], [1], [2], [1]], run.Stored.ReadPartitions);
        Assert.Equal(2, summary.Counters.Processed);
    }

    [Fact]
    public async Task Due_APartitionWhoseReadTimedOut_IsNotReadThroughTheSpareSource_WhileAnotherReadIsUnderWay()
    {
        // The spare is kept for partitions not known to be slow: a second read of a broker that does not answer would
        // hold it too, and partitions assigned after would wait again.
        var run = OneOrderInEachOfPartitions1And2();
        var offline = true;
        run.Stored.FailsFor = p => p == 1 && Volatile.Read(ref offline) ? new TimeoutException("reading orders_stats[1] made no progress for 30 s") : null;
        run.Stored.IsSlow = p => p == 2;
        run.Consumer.Assign(1);
        long? assignedAt = null;
        run.When(() => run.Logs.Count(16) == 1, () =>
        {
            run.Consumer.Assign(2);
            assignedAt = run.Time.GetTimestamp();
        });
        var readsWhileHeld = 0;
        run.When(() => assignedAt is { } at && run.Time.GetElapsedTime(at) > TimeSpan.FromSeconds(2), () =>
        {
            // Partition 1's retry has been due for over 1.5 s (its delay is 400 ms).
            readsWhileHeld = run.Stored.Reads;
            Volatile.Write(ref offline, false);
            run.Stored.Slow.Set();
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Equal(2, readsWhileHeld);
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal([[1], [2], [1]], run.Stored.ReadPartitions);
    }

    [Fact]
    public async Task RevokedWithADeadLetterInFlight_AndAssignedAgain_ItsRestoreWaitsForTheLetter_TheRecordIsNotDecidedAgain()
    {
        // The dead-letter broker answers later than the revoke's timeout: the letter is still on its way when partition 0
        // is given up, and it comes back to this processor at once (as every partition does at a classic rebalance).
        var run = new LoopHarness(o => o.RevokeTimeout = TimeSpan.FromSeconds(1));
        run.Stored.LettersOnRecord = () => run.DeadLetters;
        run.Consumer.Append(0, LoopHarness.Order(-1), LoopHarness.Order(10));
        run.Producer.Stalled = true;
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed == 1 && run.Producer.Pending > 0, () =>
        {
            run.Consumer.Revoke(0);
            run.Consumer.Assign(0);
        });
        run.When(() => run.Logs.Count(2) == 2, () =>
        {
            run.Producer.Stalled = false;
            run.Producer.Deliver();
        });

        var summary = await Bounded(run, TestContext.Current.CancellationToken);

        Assert.Single(run.DeadLetters);
        Assert.Equal(1, run.Logs.Count(76));
        Assert.Equal(1, summary.Counters.Honoured);
        Assert.Equal(1, summary.View.Aggregates.Count);
        Assert.Equal(10m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(1, summary.View.Aggregates.DeadLettered[DeadLetterHeaders.ReasonInvalid]);
    }

    [Fact]
    public async Task EndedByAFatalError_WhileARestoreReadsOffTheLoopsThread_TheReadGivesUp_AndTheCloseWritesNothingForItsPartition()
    {
        // Not a stop from outside, which the read sees too: the loop's end itself cancels the read.
        var run = new LoopHarness(o => (o.RestoreWait, o.UntilIdle) = (TimeSpan.FromMilliseconds(50), null));
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(10));
        run.Stored.IsSlow = p => p == 1;
        run.Consumer.Assign(0);
        run.When(() => run.Counters.Processed == 1, () => run.Consumer.Assign(1));
        run.When(() => run.Stored.Reads == 2 && run.Consumer.IsAssigned(1), () => run.Fatal.Set(new InvalidOperationException("a fatal error")));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Bounded(run, TestContext.Current.CancellationToken));
        await run.Stored.SlowReadCancelled.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        Assert.Equal(1, run.Counters.Processed);
        Assert.Equal([0], run.Status.View.Partitions.Keys);
        Assert.DoesNotContain(1, run.Consumer.Stored.Keys);
        Assert.NotEmpty(run.Checkpoints);
        Assert.DoesNotContain(run.Checkpoints, c => System.Text.Encoding.UTF8.GetString(c.Key!).StartsWith(CheckpointCodec.KeyPrefixFor(LoopHarness.Group, 1), StringComparison.Ordinal));
    }

    [Fact]
    public async Task AssignedAfterTheRunEnded_RestoresNothing_AndLeavesThePartitionsWithoutAnOffset()
    {
        // A consumer polled on the loop's thread runs a close's callbacks on the close's thread, which can outlast the run.
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);
        await Bounded(run, TestContext.Current.CancellationToken);
        var reads = run.Stored.Reads;

        var offsets = run.Parts.Assignments.OnAssigned([new TopicPartition(LoopHarness.Topic, 1)]).ToList();

        Assert.Equal([new TopicPartitionOffset(LoopHarness.Topic, 1, Offset.Unset)], offsets);
        Assert.Equal(reads, run.Stored.Reads);
        Assert.Equal(1, run.Logs.Count(74));
    }

    /// <summary>Partitions 1 and 2 with an order each (10 and 20 EUR), nothing assigned yet; the loop waits 50 ms for a restore it starts.</summary>
    private static LoopHarness OneOrderInEachOfPartitions1And2()
    {
        var run = new LoopHarness(o => o.RestoreWait = TimeSpan.FromMilliseconds(50));
        run.Consumer.Append(1, LoopHarness.Order(10));
        run.Consumer.Append(2, LoopHarness.Order(20));
        return run;
    }

    /// <summary>Partitions 0, 1 and 2, an order in each, assigned together; reads that include a partition fail with what <paramref name="failsFor"/> gives for it.</summary>
    private static LoopHarness ThreeAssigned(Func<int, Exception?> failsFor, Action<ProcessorOptions>? configure = null)
    {
        var run = new LoopHarness(configure);
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Append(1, LoopHarness.Order(20));
        run.Consumer.Append(2, LoopHarness.Order(30));
        run.Stored.FailsFor = failsFor;
        run.Consumer.Assign(0, 1, 2);
        return run;
    }

    /// <summary>The run on a thread of its own, bounded in real time: a loop that waits for a read for good fails the test instead of hanging it.</summary>
    private static Task<ProcessorSummary> Bounded(LoopHarness run, CancellationToken stop) =>
        Task.Run(() => run.RunAsync(stop), TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

    private static PartitionCheckpoint Checkpoint(int partition, long nextOffset, long count, decimal sum) => new(
        LoopHarness.Group, LoopHarness.Topic, partition, "earlier-1", nextOffset, partition, 0, DateTimeOffset.UnixEpoch,
        AggregateData.Empty with
        {
            Currencies = new Dictionary<string, CurrencyData>
            {
                ["EUR"] = CurrencyData.Empty with { Overall = new OrderMeasures(new PriceStatistics(count, sum, 100m, 100m), new PriceStatistics(count, sum, 100m, 100m)) },
            },
        });
}
