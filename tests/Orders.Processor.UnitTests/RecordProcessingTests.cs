using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Orders.Contracts;
using Orders.Processor.Records;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>What happens to one record, through the real loop over fake ports: processed, invalid, poison, retried, registry waits.</summary>
public sealed class RecordProcessingTests
{
    [Fact]
    public async Task Processed_OrdersEnterTheAverages_AndTheCheckpointAndStoredOffsetCoverThem()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10), LoopHarness.Order(20), LoopHarness.Order(30, "kettle"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(3, summary.Counters.Processed);
        Assert.Equal(3, summary.View.Aggregates.Count);
        Assert.Equal(60m, summary.View.Aggregates.Currencies["EUR"].Overall.Price.Sum);
        Assert.Equal(30m, summary.View.Aggregates.Currencies["EUR"].Products["kettle"].Price.Sum);
        Assert.Equal(3, summary.View.Partitions[0].CheckpointedOffset);
        Assert.Equal(3, run.Consumer.Stored[0]);
        Assert.Empty(summary.NotCheckpointed);
        Assert.Empty(run.DeadLetters);
    }

    [Fact]
    public async Task Invalid_IsDeadLetteredAtOnce_WithTheOriginalBytesAndItsDiagnostics()
    {
        var run = new LoopHarness();
        var invalid = LoopHarness.Order(-5);
        run.Consumer.Append(1, LoopHarness.Order(10), invalid);
        run.Consumer.Assign(1);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.DeadLetters);
        Assert.Equal(invalid.Key, letter.Key);
        Assert.Equal(invalid.Value, letter.Value);
        Assert.Equal(DeadLetterHeaders.ReasonInvalid, LoopHarness.Header(letter, DeadLetterHeaders.Reason));
        Assert.Equal("orders", LoopHarness.Header(letter, DeadLetterHeaders.OriginalTopic));
        Assert.Equal("1", LoopHarness.Header(letter, DeadLetterHeaders.OriginalPartition));
        Assert.Equal("1", LoopHarness.Header(letter, DeadLetterHeaders.OriginalOffset));
        Assert.Equal("1", LoopHarness.Header(letter, DeadLetterHeaders.Attempts));
        Assert.Equal(LoopHarness.Group, LoopHarness.Header(letter, DeadLetterHeaders.ConsumerGroup));
        Assert.Equal("Orders.Processor.InvalidOrderException", LoopHarness.Header(letter, DeadLetterHeaders.ErrorType));
        Assert.Equal(1, summary.Counters.DeadLetteredByReason[DeadLetterHeaders.ReasonInvalid]);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(2, summary.View.Partitions[1].CheckpointedOffset);
    }

    [Fact]
    public async Task AProductNameNoCheckpointCouldHold_IsDeadLetteredAsInvalid_AndTheRunGoesOnAndCheckpoints()
    {
        // Before the name's bound: the checkpoint could not be written, which stopped the processor, and every restart after it.
        var run = new LoopHarness();
        var huge = LoopHarness.Order(10, product: new string('Q', 400_000));
        run.Consumer.Append(0, huge, LoopHarness.Order(12));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.DeadLetters);
        Assert.Equal(huge.Value, letter.Value);
        Assert.Equal(DeadLetterHeaders.ReasonInvalid, LoopHarness.Header(letter, DeadLetterHeaders.Reason));
        var message = LoopHarness.Header(letter, DeadLetterHeaders.ErrorMessage)!;
        Assert.StartsWith("product must be at most 200 characters, not 400,000 ('QQQ", message, StringComparison.Ordinal);
        Assert.True(message.Length < 300, $"the error quotes {message.Length} characters of the name");
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(2, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task AnOrderCreatedAfterItsRecordWasWritten_IsDeadLetteredAsInvalid_AndTheWindowStaysWithTheOtherOrders()
    {
        // Before: its minute, in the year 3000, became the window's newest, and every real order after it was late.
        var run = new LoopHarness();
        var written = new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero);
        var fromTheFuture = LoopHarness.Order(10, createdAt: new DateTimeOffset(3000, 1, 1, 0, 0, 0, TimeSpan.Zero));
        fromTheFuture.Timestamp = new Timestamp(written.UtcDateTime, TimestampType.CreateTime);
        var withinTheSkew = LoopHarness.Order(11, createdAt: written.AddMinutes(59));
        withinTheSkew.Timestamp = new Timestamp(written.UtcDateTime, TimestampType.CreateTime);
        run.Consumer.Append(0, fromTheFuture, withinTheSkew, LoopHarness.Order(12, createdAt: written));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.DeadLetters);
        Assert.Equal(fromTheFuture.Value, letter.Value);
        Assert.StartsWith(
            "createdAt must not be after the record was written (more than 1 h of clock skew), not 3000-01-01T00:00:00.000Z for a record written at 2026-12-02T12:00:00.000Z",
            LoopHarness.Header(letter, DeadLetterHeaders.ErrorMessage),
            StringComparison.Ordinal);
        Assert.Equal(2, summary.Counters.Processed);
        var eur = summary.View.Aggregates.Currencies["EUR"];
        Assert.Equal(2, eur.Minutes.Values.Sum(m => m.Count));
        Assert.Equal(0, summary.View.Aggregates.LateOrders);
    }

    [Fact]
    public async Task Poison_IsDeadLetteredAtOnce_AndNeverRetried()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Poison(), LoopHarness.Order(10));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.DeadLetters);
        Assert.Equal(DeadLetterHeaders.ReasonPoison, LoopHarness.Header(letter, DeadLetterHeaders.Reason));
        Assert.Equal(0, summary.Counters.Retried);
        Assert.Equal(1, summary.Counters.Processed);
    }

    [Fact]
    public async Task Transient_IsRetriedAfterItsBackoff_WhileOtherKeysGoOn_WithoutRewindingThePartition()
    {
        var handler = new ScriptedHandler(failuresFor: new() { ["b"] = 2 });
        var run = new LoopHarness(handler: handler);
        run.Consumer.Append(0, LoopHarness.Order(1, key: "a"), LoopHarness.Order(2, key: "b"), LoopHarness.Order(3, key: "c"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, summary.Counters.Retried);
        Assert.Equal(3, summary.Counters.Processed);
        Assert.Equal(["a", "b", "c", "b", "b"], handler.Calls);
        Assert.Empty(run.DeadLetters);
        Assert.Empty(run.Consumer.Seeks);
        Assert.Equal(3, summary.View.Partitions[0].CheckpointedOffset);
    }

    [Fact]
    public async Task Transient_WithOrderingByPartition_HoldsTheRestOfThePartitionBehindIt()
    {
        var handler = new ScriptedHandler(failuresFor: new() { ["b"] = 2 });
        var run = new LoopHarness(o => o.Ordering = Ordering.Partition, handler);
        run.Consumer.Append(0, LoopHarness.Order(1, key: "a"), LoopHarness.Order(2, key: "b"), LoopHarness.Order(3, key: "c"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(["a", "b", "b", "b", "c"], handler.Calls);
        Assert.Equal(3, summary.Counters.Processed);
    }

    [Fact]
    public async Task Transient_OnEveryAttempt_IsDeadLetteredAsRetriesExhausted_AfterMaxAttempts()
    {
        var run = new LoopHarness(o => o.MaxAttempts = 3, handler: new ScriptedHandler(failuresFor: new() { ["x"] = int.MaxValue }));
        run.Consumer.Append(0, LoopHarness.Order(1, key: "x"), LoopHarness.Order(2, key: "y"));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        var letter = Assert.Single(run.DeadLetters);
        Assert.Equal(DeadLetterHeaders.ReasonRetriesExhausted, LoopHarness.Header(letter, DeadLetterHeaders.Reason));
        Assert.Equal("3", LoopHarness.Header(letter, DeadLetterHeaders.Attempts));
        Assert.Equal(2, summary.Counters.Retried);
        Assert.Equal(1, summary.Counters.Processed);
    }

    [Fact]
    public async Task Retry_PausesOnlyItsOwnPartition_TheOthersGoOn()
    {
        var handler = new ScriptedHandler(failuresFor: new() { ["slow"] = 1 });
        var run = new LoopHarness(o => o.RetryBaseDelay = o.RetryMaxDelay = TimeSpan.FromSeconds(1), handler: handler);
        run.Consumer.Append(0, LoopHarness.Order(1, key: "slow"));
        run.Consumer.Append(1, LoopHarness.Order(2, key: "p1-a"), LoopHarness.Order(3, key: "p1-b"));
        run.Consumer.Assign(0, 1);

        await run.RunAsync(TestContext.Current.CancellationToken);

        // Partition 1 was read in full while partition 0 waited out its one-second backoff.
        Assert.Equal(["slow", "p1-a", "p1-b", "slow"], handler.Calls);
    }

    [Fact]
    public async Task RegistryAway_PartitionWaits_SpendingNoAttempt_NeverDeadLettered_ThenProcessed()
    {
        var run = new LoopHarness(o => o.MaxAttempts = 1);
        run.Registry.FailingLookups = 4;
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(TestContext.Current.CancellationToken);

        Assert.Equal(4, summary.Counters.RegistryWaits);
        Assert.Equal(1, summary.Counters.Processed);
        Assert.Equal(0, summary.Counters.Retried);
        Assert.Empty(run.DeadLetters);
    }

    [Fact]
    public async Task RegistryThatDoesNotAnswer_HoldsTheLoopOnceForItsPatience_TheLookupGoesOnAndIsJoined_ThenProcessed()
    {
        // Patient enough not to give up while the test holds the registry (the loop's clock runs fast once free).
        var run = new LoopHarness(o => o.FirstAssignmentWait = TimeSpan.FromDays(100));
        var gate = run.Registry.LookupGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);
        // Once the loop is free it never stops by itself while the registry hangs: the test stops it if it fails.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        var running = Task.Run(() => run.RunAsync(stop.Token), TestContext.Current.CancellationToken);
        try
        {
            Assert.True(SpinWait.SpinUntil(() => run.Registry.SchemaCalls > 0, TimeSpan.FromSeconds(30)));
            // The lookup hangs: once the patience has passed, the record waits as for a registry away, and the loop
            // turns on. The clock moves in steps (the patience's timer starts a moment after the lookup does), from a
            // thread of its own: the step that fires the timer may go on serving the timers of the loop, free from then on.
            var advanced = 0L;
            var advancing = Task.Run(
                () =>
                {
                    while (run.Counters.RegistryWaits == 0 && !stop.IsCancellationRequested)
                    {
                        Interlocked.Add(ref advanced, 100);
                        run.Time.Advance(TimeSpan.FromMilliseconds(100));
                        Thread.Sleep(10);
                    }
                },
                TestContext.Current.CancellationToken);
            Assert.True(SpinWait.SpinUntil(() => run.Counters.RegistryWaits > 0, TimeSpan.FromSeconds(30)), "the loop was still held by the lookup");
            Assert.InRange(TimeSpan.FromMilliseconds(Interlocked.Read(ref advanced)), RecordProcessor.RegistryPatience, RecordProcessor.RegistryPatience * 3);
            // While that lookup is out, the record's next reads wait for nothing (the loop is held once, not once per
            // read): the registry answers only after two more of them, which the loop's own clock brings.
            run.When(() => run.Counters.RegistryWaits >= 3, () => gate.SetResult());
            var summary = await running.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            await advancing.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

            Assert.Equal(1, summary.Counters.Processed);
            Assert.Empty(run.DeadLetters);
            // The record read again joined the lookup in flight instead of asking again.
            Assert.Equal(1, run.Registry.SchemaCalls);
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    [Fact]
    public async Task RegistryAway_WithUntilIdle_GivesUp_LeavingTheRecordsInKafka()
    {
        var run = new LoopHarness(o => o.FirstAssignmentWait = TimeSpan.FromSeconds(5));
        run.Registry.Failure = new HttpRequestException("connection refused");
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);

        var error = await Assert.ThrowsAsync<ProcessorGaveUpException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Schema Registry could not be reached", error.Message, StringComparison.Ordinal);
        Assert.Empty(run.DeadLetters);
        Assert.Equal(0, run.Counters.Processed);
        Assert.DoesNotContain(0, run.Consumer.Stored.Keys);
    }

    [Fact]
    public async Task RegistryAway_EveryPartitionsWaits_AreOneLinePerWindow_WhoseCountsAddUp()
    {
        // Given up after ~30 s of the fake clock: three windows of the log, and more.
        var run = new LoopHarness(o => (o.FirstAssignmentWait, o.UntilIdle) = (TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30)));
        run.Registry.Failure = new HttpRequestException("connection refused");
        foreach (var partition in new[] { 0, 1, 2 })
        {
            run.Consumer.Append(partition, LoopHarness.Order(10));
        }

        run.Consumer.Assign(0, 1, 2);

        await Assert.ThrowsAsync<ProcessorGaveUpException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        var waits = run.Counters.RegistryWaits;
        var first = run.Logs.Lines.Where(l => l.Id.Id == 7).ToList();
        var later = run.Logs.Lines.Where(l => l.Id.Id == 67).ToList();
        var counted = later.Sum(l => int.Parse(Regex.Match(l.Text, @"still unavailable: (\d+) more waits of partitions of ").Groups[1].Value, CultureInfo.InvariantCulture));
        Assert.Single(first);
        Assert.True(later.Count >= 3, $"{later.Count} counts in ~30 s of 10 s windows");
        Assert.True(waits >= 3 * (1 + later.Count), $"{waits} waits of 3 partitions over {1 + later.Count} windows");
        // Each wait is the one line, or in a count: those of the last window too, written as the loop closed.
        Assert.Equal(waits, 1 + counted);
        Assert.Contains("connection refused", first[0].Text, StringComparison.Ordinal);
        Assert.All(later, l => Assert.Matches(@"not logged one by one: .*connection refused$", l.Text));
    }

    [Fact]
    public async Task CredentialsRejected_StopsTheProcessor_WithTheRecordUnprocessed()
    {
        var run = new LoopHarness();
        run.Registry.LookupFailure = new SchemaRegistryException("Unauthorized", System.Net.HttpStatusCode.Unauthorized, 401);
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);

        await Assert.ThrowsAsync<RegistryCredentialsException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Equal(0, run.Counters.Processed);
        Assert.Empty(run.DeadLetters);
    }

    [Fact]
    public async Task CredentialsRejected_RegisteringTheCheckpointSchema_StopsTheProcessorSayingSo()
    {
        var run = new LoopHarness();
        run.Registry.Failure = new SchemaRegistryException("Forbidden", System.Net.HttpStatusCode.Forbidden, 403);
        run.Consumer.Assign(0);

        var error = await Assert.ThrowsAsync<RegistryCredentialsException>(() => run.RunAsync(TestContext.Current.CancellationToken));

        Assert.Contains("rejected the credentials", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A handler that fails the first N calls for some order ids, and records every call.</summary>
    internal sealed class ScriptedHandler(Dictionary<string, int> failuresFor) : IOrderHandler
    {
        public List<string> Calls { get; } = [];

        public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
        {
            Calls.Add(order.OrderId);
            if (failuresFor.TryGetValue(order.OrderId, out var left) && left > 0)
            {
                failuresFor[order.OrderId] = left - 1;
                throw new SimulatedTransientException($"failing {order.OrderId}");
            }

            return ValueTask.CompletedTask;
        }
    }

}
