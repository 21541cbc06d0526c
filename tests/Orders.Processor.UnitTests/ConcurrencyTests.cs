using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.Records;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>Concurrent, key-ordered handling and non-blocking retries, through the real loop over fake ports and a handler the test controls.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task DifferentKeys_AreHandledAtOnce_UpToTheInFlightLimit()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(o => o.MaxInFlight = 3, handler);
        run.Consumer.Append(0, [.. Enumerable.Range(0, 6).Select(i => LoopHarness.Order(10, key: $"k{i}"))]);
        run.Consumer.Assign(0);
        run.When(() => handler.Running == 3 && run.Status.View.Load.Queued + handler.Started.Count >= 3, () =>
        {
            Assert.Equal(3, handler.Started.Count);
            handler.ReleaseAll();
            run.When(() => handler.Started.Count == 6, handler.ReleaseAll);
        });

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(3, handler.MaxRunning);
        Assert.Equal(6, summary.Counters.Processed);
        Assert.Equal(6, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task TheSameKey_GoesInOffsetOrder_WhileOtherKeysGoOn()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(handler: handler);
        run.Consumer.Append(0, LoopHarness.Order(1, key: "a1"), LoopHarness.Order(2, key: "b1"), LoopHarness.Order(3, key: "c1"));
        run.Consumer.Append(0, Keyed("same", "a2"), Keyed("same", "a3"), Keyed("other", "b2"));
        run.Consumer.Assign(0);
        run.When(() => handler.Started.Contains("b2"), () =>
        {
            // a3 has the key of a2, which is still in flight: it waits; b2 has another key: it goes.
            Assert.DoesNotContain("a3", handler.Started);
            Assert.Equal(1, run.Parts.Records.Dispatcher.WaitingForKey);
            handler.Release("a2");
            run.When(() => handler.Started.Contains("a3"), handler.ReleaseAll);
        });
        run.When(() => handler.Started.Count >= 3, () =>
        {
            foreach (var id in new[] { "a1", "b1", "c1" })
            {
                handler.Release(id);
            }
        });

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(6, summary.Counters.Processed);
        Assert.True(handler.Started.ToList().IndexOf("a2") < handler.Started.ToList().IndexOf("a3"));
    }

    [Fact]
    public async Task RecordsWithoutAKey_AreIndependent()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(handler: handler);
        run.Consumer.Append(0, [.. Enumerable.Range(0, 4).Select(i => Keyless($"n{i}"))]);
        run.Consumer.Assign(0);
        run.When(() => handler.Running == 4, handler.ReleaseAll);

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(4, handler.MaxRunning);
        Assert.Equal(4, summary.Counters.Processed);
    }

    [Fact]
    public async Task OrderingByPartition_HandlesOneRecordAtATime()
    {
        var handler = new GatedHandler { Immediate = _ => false };
        var run = new LoopHarness(o => o.Ordering = Ordering.Partition, handler);
        run.Consumer.Append(0, [.. Enumerable.Range(0, 3).Select(i => LoopHarness.Order(1, key: $"p{i}"))]);
        run.Consumer.Assign(0);
        ReleaseOneAtATime(run, handler, ["p0", "p1", "p2"]);

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(1, handler.MaxRunning);
        Assert.Equal(["p0", "p1", "p2"], handler.Started);
        Assert.Equal(3, summary.Counters.Processed);
    }

    [Fact]
    public async Task AFailingRecord_WaitsOutItsBackoffAlone_OnlyItsKeyWaitsBehindIt()
    {
        var handler = new RecordProcessingTests.ScriptedHandler(failuresFor: new() { ["slow-1"] = 1 });
        var run = new LoopHarness(o => o.RetryBaseDelay = o.RetryMaxDelay = TimeSpan.FromSeconds(1), handler);
        run.Consumer.Append(0, Keyed("k", "slow-1"), Keyed("k", "slow-2"), Keyed("x", "free-1"), Keyed("y", "free-2"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(Timeout());

        // The other keys went while slow-1 waited its second out; slow-2 waited for slow-1.
        Assert.Equal(["slow-1", "free-1", "free-2", "slow-1", "slow-2"], handler.Calls);
        Assert.Equal(4, summary.Counters.Processed);
        Assert.Equal(1, summary.Counters.Retried);
        Assert.Equal(4, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task ACheckpoint_CoversTheLowestIncompleteOffset_AndTheRecordsCompletedAboveIt_AndARestoreSkipsThem()
    {
        var handler = new GatedHandler { Immediate = id => id != "first" };
        var run = new LoopHarness(o => (o.UntilIdle, o.RevokeTimeout) = (null, TimeSpan.FromMilliseconds(200)), handler);
        run.Time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(5);
        run.Consumer.Append(0, LoopHarness.Order(100, key: "first"), LoopHarness.Order(1, key: "b"), LoopHarness.Order(2, key: "c"), LoopHarness.Order(3, key: "d"));
        run.Consumer.Assign(0);
        using var stop = new CancellationTokenSource();
        run.When(() => run.Checkpoints.Count > 0 && run.Counters.Processed == 3, stop.Cancel);

        await run.RunAsync(stop.Token);

        // The close could not wait for "first" (never released): the checkpoint leaves it out.
        var checkpoint = Decode(run.Checkpoints[^1]);
        Assert.Equal(0, checkpoint.NextOffset);
        Assert.Equal([1L, 3], checkpoint.CompletedRanges);
        Assert.Equal(3, checkpoint.Data.Count);
        Assert.Equal(6m, checkpoint.Data.Currencies["EUR"].Overall.Price.Sum);

        var next = new LoopHarness();
        next.Consumer.Append(0, [.. run.Consumer.Records(0)]);
        next.Stored.Checkpoint(checkpoint);
        next.Consumer.Assign(0);
        var summary = await next.RunAsync(Timeout());

        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(4, summary.View.Aggregates.Count);
        Assert.Equal(106m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(4, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task Revoked_WaitsForWorkInFlight_WithinTheRevokeTimeout_AndCountsWhatEnded()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(o => o.RevokeTimeout = TimeSpan.FromSeconds(30), handler);
        run.Consumer.Append(0, LoopHarness.Order(5, key: "a"));
        run.Consumer.Assign(0);
        run.When(() => handler.IsRunning("a"), () =>
        {
            run.Consumer.Revoke(0);
            _ = Task.Run(async () =>
            {
                await Task.Delay(50);
                handler.ReleaseAll();
            });
        });

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(1, run.Consumer.Stored[0]);
        Assert.Equal(1, Decode(run.Checkpoints[^1]).Data.Count);
    }

    [Fact]
    public async Task Revoked_StartsNothingMoreOfThePartition_WhileItsCallsUnderWayEnd()
    {
        // The next record of the key would start as the first ends, and be abandoned by the revoke once
        // its side effects had happened: its next owner would call the handler for it again.
        var handler = new GatedHandler();
        var run = new LoopHarness(o => o.RevokeTimeout = TimeSpan.FromSeconds(2), handler);
        run.Time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(5);
        run.Consumer.Append(0, Keyed("k", "first"), Keyed("k", "second"));
        run.Consumer.Assign(0);
        run.When(() => handler.IsRunning("first") && run.Parts.Records.Dispatcher.WaitingForKey == 1, () =>
        {
            run.Consumer.Revoke(0);
            _ = Task.Run(async () =>
            {
                await Task.Delay(50);
                handler.ReleaseAll();
            });
        });

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(["first"], handler.Started);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(1, Decode(run.Checkpoints[^1]).NextOffset);
        Assert.Equal(1, run.Consumer.Stored[0]);
    }

    [Fact]
    public async Task Revoked_WorkThatDoesNotEnd_IsLeftUncounted_AndItsCallCancelled()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(o => o.RevokeTimeout = TimeSpan.FromMilliseconds(500), handler);
        run.Time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(5);
        run.Consumer.Append(0, LoopHarness.Order(5, key: "a"), LoopHarness.Order(6, key: "b"));
        run.Consumer.Assign(0);
        handler.Immediate = id => id == "b";
        run.When(() => run.Counters.Processed == 1, () => run.Consumer.Revoke(0));

        var summary = await run.RunAsync(Timeout());

        var checkpoint = Decode(run.Checkpoints[^1]);
        Assert.Equal(0, checkpoint.NextOffset);
        Assert.Equal([1L, 1], checkpoint.CompletedRanges);
        Assert.Equal(1, checkpoint.Data.Count);
        Assert.Equal(1, handler.Cancelled);
        Assert.Equal(1, summary.Counters.Processed);
    }

    [Fact]
    public async Task APartitionWithTooMuchOutstanding_Pauses_AndResumesOnceHalfIsDone()
    {
        var handler = new GatedHandler();
        var run = new LoopHarness(o => (o.MaxInFlight, o.MaxBuffered) = (4, 4), handler);
        run.Consumer.Append(0, [.. Enumerable.Range(0, 10).Select(i => LoopHarness.Order(1, key: $"k{i}"))]);
        run.Consumer.Assign(0);
        var sawPaused = false;
        run.When(() => handler.Running == 4, () =>
        {
            sawPaused = run.Consumer.IsPaused(0);
            Assert.Equal(4, run.Parts.Table.Owned.Single().Outstanding);
            handler.ReleaseAll();
            run.When(() => handler.Started.Count == 8 && handler.Running == 4, () =>
            {
                handler.ReleaseAll();
                run.When(() => handler.Started.Count == 10 && handler.Running == 2, handler.ReleaseAll);
            });
        });

        var summary = await run.RunAsync(Timeout());

        Assert.True(sawPaused, "the partition was not paused at its limit");
        Assert.Equal(4, handler.MaxRunning);
        Assert.Equal(10, summary.Counters.Processed);
        Assert.False(run.Consumer.IsPaused(0));
    }

    [Fact]
    public async Task RecordsDoneInline_AboveOneStillOutstanding_CountTowardsTheLimitOutOfOrder_AndThePartitionPausesAtIt()
    {
        var handler = new GatedHandler { Immediate = id => id != "first" };
        var run = new LoopHarness(o => o.MaxOutOfOrder = 4, handler);
        run.Consumer.Append(0, [LoopHarness.Order(1, key: "first"), .. Enumerable.Range(0, 9).Select(i => LoopHarness.Order(1, key: $"k{i}"))]);
        run.Consumer.Assign(0);
        var (paused, processedThen) = (false, -1L);
        run.When(() => run.Consumer.IsPaused(0) || run.Counters.Processed == 9, () =>
        {
            (paused, processedThen) = (run.Consumer.IsPaused(0), run.Counters.Processed);
            handler.Release("first");
        });

        var summary = await run.RunAsync(Timeout());

        Assert.True(paused, "the partition was not paused at its limit out of order");
        Assert.Equal(4, processedThen);
        Assert.Equal(10, summary.Counters.Processed);
        Assert.False(run.Consumer.IsPaused(0));
        Assert.Equal(10, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task ARestoredPartition_WithMoreDoneOutOfOrderThanItsLimit_ReadsOnOnceNothingOfItIsOutstanding()
    {
        // The previous owner finished offsets 2-7, not 0 and 1: more above 0 than the limit.
        var handler = new GatedHandler { Immediate = id => id != "first" };
        var run = new LoopHarness(o => o.MaxOutOfOrder = 4, handler);
        run.Consumer.Append(0, [LoopHarness.Order(100, key: "first"), LoopHarness.Order(10, key: "second"), .. Enumerable.Range(0, 6).Select(i => LoopHarness.Order(1, key: $"done{i}"))]);
        run.Stored.Checkpoint(RestoredWithSixDoneAboveTwoUndone());
        run.Consumer.Assign(0);
        var pausedWhileFirstRan = false;
        run.When(() => handler.IsRunning("first"), () =>
        {
            pausedWhileFirstRan = run.Consumer.IsPaused(0);
            handler.Release("first");
        });

        var summary = await run.RunAsync(Timeout());

        // Held while "first" was outstanding; once it was done, nothing was, and "second" had yet to be read.
        Assert.True(pausedWhileFirstRan, "the partition was not held while above its limit with a record outstanding");
        Assert.Equal(2, summary.Counters.Processed);
        Assert.Equal(8, summary.View.Aggregates.Count);
        Assert.Equal(116m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(8, summary.View.Partitions[0].CheckpointedOffset);
        Assert.False(run.Consumer.IsPaused(0));
    }

    [Theory]
    [InlineData(Ordering.Key, 4)]
    [InlineData(Ordering.Unordered, 16)]
    [InlineData(Ordering.Partition, 3)]
    public async Task ASlowDownstream_EveryRecordIsProcessedOnce_BeforeTheProcessorCallsItselfIdle(Ordering ordering, int maxInFlight)
    {
        var run = new LoopHarness(
            o => (o.Ordering, o.MaxInFlight, o.UntilIdle) = (ordering, maxInFlight, TimeSpan.FromMilliseconds(500)),
            handlerFor: time => new SimulatedDownstream(0.1, new LatencyRange(TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(20)), new Random(3), time));
        for (var p = 0; p < 3; p++)
        {
            run.Consumer.Append(p, [.. Enumerable.Range(0, 200).Select(i => LoopHarness.Order(i % 7, key: $"k{i % 13}"))]);
        }

        run.Consumer.Assign(0, 1, 2);

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(600, summary.Counters.Processed + summary.Counters.DeadLetteredByReason.Values.Sum());
        Assert.All(summary.View.Partitions.Values, p => Assert.Equal(200, p.NextOffset));
        Assert.Empty(summary.NotCheckpointed);
    }

    private static void ReleaseOneAtATime(LoopHarness run, GatedHandler handler, string[] ids)
    {
        if (ids.Length == 0)
        {
            return;
        }

        run.When(() => handler.IsRunning(ids[0]), () =>
        {
            Assert.Equal(1, handler.Running);
            handler.Release(ids[0]);
            ReleaseOneAtATime(run, handler, ids[1..]);
        });
    }

    private static Message<byte[]?, byte[]?> Keyed(string key, string orderId)
    {
        var message = LoopHarness.Order(1, key: orderId);
        message.Key = System.Text.Encoding.UTF8.GetBytes(key);
        return message;
    }

    private static Message<byte[]?, byte[]?> Keyless(string orderId)
    {
        var message = LoopHarness.Order(1, key: orderId);
        message.Key = null;
        return message;
    }

    private static PartitionCheckpoint Decode(Message<byte[]?, byte[]?> message)
    {
        var value = message.Value!;
        using var stream = new MemoryStream(value, 5, value.Length - 5);
        var record = new GenericDatumReader<GenericRecord>(CheckpointCodec.Schema, CheckpointCodec.Schema).Read(null!, new BinaryDecoder(stream));
        return CheckpointCodec.Assemble([CheckpointCodec.FromRecord(record)])!;
    }

    /// <summary>A real-time bound, so that a broken test fails instead of hanging the run.</summary>
    private static PartitionCheckpoint RestoredWithSixDoneAboveTwoUndone() => new(
        LoopHarness.Group, LoopHarness.Topic, 0, "earlier-1", 0, 0, 0, DateTimeOffset.UnixEpoch,
        AggregateData.Empty with
        {
            Currencies = new Dictionary<string, CurrencyData>
            {
                ["EUR"] = CurrencyData.Empty with { Overall = new OrderMeasures(new PriceStatistics(6, 6m, 1m, 1m), new PriceStatistics(6, 6m, 1m, 1m)) },
            },
        })
    {
        CompletedRanges = [2L, 6],
    };

    private static CancellationToken Timeout() =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token).Token;
}
