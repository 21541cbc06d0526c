using Confluent.Kafka;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Processor.Loop;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>
/// The consumer polled on a thread of its own looks to the loop like the consumer it wraps: records in
/// order, each once; rebalance callbacks on the loop's thread, after the records before them; pause,
/// resume and seek that take effect at once for the loop, made on the polling thread between two
/// polls; errors where they came; a bounded hand-over; a close that stops the polling first.
/// The test thread plays the loop. The polling thread runs for real, so a test waits for it to get
/// somewhere (never for a time to pass).
/// </summary>
public sealed class FetchAheadConsumerTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private static readonly TopicPartition P0 = new("orders", 0);
    private static readonly TopicPartition P1 = new("orders", 1);

    private readonly ScriptedConsumer _inner = new();
    private readonly Listener _listener;
    private FetchAheadConsumer _consumer;

    public FetchAheadConsumerTests()
    {
        _consumer = new FetchAheadConsumer(_inner, 2048, Patience, NullLogger.Instance);
        _listener = new Listener();
    }

    public void Dispose() => _consumer.Dispose();

    [Fact]
    public void Records_ComeInTheOrderPolled_EachOnce_AcrossManyBatches()
    {
        var script = Enumerable.Range(0, 5000).Select(i => (i % 3, (long)(i / 3))).ToArray();
        _inner.AddRecords(script);
        Start();

        var got = Take(script.Length);

        Assert.Equal(script, got);
    }

    [Fact]
    public async Task TookInHand_IsTrueForRecordsHandedOverBeforeTheCall_AndFalseForOneTheCallWaitedFor()
    {
        _inner.AddRecords((0, 0), (0, 1), (0, 2));
        Start();
        // The three are polled, a poll finds nothing, the batch is handed over, and the next poll finds nothing.
        WaitFor(() => _inner.EmptyPolls > 1);

        for (var offset = 0; offset < 3; offset++)
        {
            Assert.Equal(offset, _consumer.Consume(Patience)!.Offset.Value);
            Assert.True(_consumer.TookInHand);
        }

        // Nothing in hand: this call waits until the next record is polled and handed over.
        var taking = Task.Run(() => (_consumer.Consume(Patience), _consumer.TookInHand), TestContext.Current.CancellationToken);
        WaitFor(() => _consumer.LoopWaiting);
        _inner.AddRecords((0, 3));
        var (record, inHand) = await taking;

        Assert.Equal(3, record!.Offset.Value);
        Assert.False(inHand);
        Assert.Null(_consumer.Consume(TimeSpan.Zero));
        Assert.False(_consumer.TookInHand);
    }

    [Fact]
    public void RebalanceCallback_RunsOnTheLoopsThread_AfterTheRecordsBeforeIt_AndItsAnswerReachesTheClient()
    {
        _inner.AddRecords([.. Enumerable.Range(0, 10).Select(i => (0, (long)i))]);
        _inner.AddAssign(1);
        _inner.AddRecords([.. Enumerable.Range(7, 10).Select(i => (1, (long)i))]);
        _listener.AssignAt = 7;
        Start();

        var before = Take(10);
        var atCallback = _consumer.Consume(Patience);
        var after = Take(10);

        Assert.Equal(10, before.Count);
        Assert.Null(atCallback);
        Assert.Equal([$"assigned orders[1] on {Environment.CurrentManagedThreadId} after 10"], _listener.Calls);
        Assert.Equal([new TopicPartitionOffset(P1, 7)], _inner.Answered);
        Assert.Equal([.. Enumerable.Range(7, 10).Select(i => (1, (long)i))], after);
    }

    [Fact]
    public void ACallbackComingWhileTheHandOverIsFull_IsHandedOverAnyway_AfterEveryRecordBeforeIt()
    {
        // One batch ahead at most: the callback comes while that batch waits and another is filling.
        _consumer = new FetchAheadConsumer(_inner, FetchAheadConsumer.BatchSize, Patience, NullLogger.Instance);
        var before = Enumerable.Range(0, FetchAheadConsumer.BatchSize + 100).Select(i => (0, (long)i)).ToArray();
        _inner.AddRecords(before);
        _inner.AddLose(0);
        _inner.AddRecords((1, 0));
        Start();
        WaitFor(() => _inner.InCallback);

        var got = Take(before.Length);
        var atCallback = _consumer.Consume(Patience);
        var after = Take(1);

        Assert.Equal(before, got);
        Assert.Null(atCallback);
        Assert.Equal([$"lost orders[0] on {Environment.CurrentManagedThreadId} after {before.Length}"], _listener.Calls);
        Assert.Equal([(1, 0L)], after);
    }

    [Theory]
    [InlineData("pause")]
    [InlineData("seek")]
    public void PauseOrSeek_IsMadeBetweenTwoPolls_AndDropsThePartitionsRecordsHandedOverBeforeIt(string call)
    {
        _inner.AddRecords([.. Enumerable.Range(0, 100).SelectMany(i => new[] { (0, (long)i), (1, (long)i) })]);
        Start();
        Assert.Equal((0, 0L), Take(1)[0]);
        // Everything is handed over once a poll finds nothing left.
        WaitFor(() => _inner.EmptyPolls > 0);

        switch (call)
        {
            case "pause":
                _consumer.Pause([P0]);
                break;
            default:
                _consumer.Seek(new TopicPartitionOffset(P0, 1));
                break;
        }

        WaitFor(() => _inner.Log().Count == 1);
        _inner.AddRecords((0, 1), (0, 2), (1, 100));
        var got = Take(103);

        var made = Assert.Single(_inner.Log());
        Assert.StartsWith(call == "seek" ? "seek@1 orders[0] on " : "pause orders[0] on ", made);
        // Made on another thread: "on 41" is another thread than this one's 4 (a substring test failed on that once).
        Assert.DoesNotMatch($@"\bon {Environment.CurrentManagedThreadId}\b", made);
        Assert.DoesNotContain("during", made);
        Assert.Equal([.. Enumerable.Range(0, 100).Select(i => (1, (long)i)), (0, 1), (0, 2), (1, 100)], got);
    }

    [Fact]
    public void Resume_IsMadeBetweenTwoPolls_InOrderWithThePauseBeforeIt_AndDropsNothing()
    {
        // librdkafka's resume drops nothing: a partition that is not paused goes on fetching, and a
        // paused one fetched nothing since its pause (the pause dropped what came before it).
        _inner.AddRecords([.. Enumerable.Range(0, 10).SelectMany(i => new[] { (0, (long)i), (1, (long)i) })]);
        Start();
        Assert.Equal((0, 0L), Take(1)[0]);
        WaitFor(() => _inner.EmptyPolls > 0);

        _consumer.Resume([P1]);
        _consumer.Pause([P0]);
        _consumer.Resume([P0]);
        WaitFor(() => _inner.Log().Count == 3);
        _inner.AddRecords((0, 10));
        var got = Take(11);

        Assert.Equal(["resume orders[1]", "pause orders[0]", "resume orders[0]"], _inner.Log().Select(l => l[..l.IndexOf(" on ", StringComparison.Ordinal)]));
        Assert.Equal([.. Enumerable.Range(0, 10).Select(i => (1, (long)i)), (0, 10)], got);
    }

    [Fact]
    public void CallsInsideACallback_AreMadeAtOnce_OnTheLoopsThread_AndThrowToTheCaller()
    {
        _inner.AssignedOnly = [0];
        _inner.AddRevoke(0);
        _listener.OnRevoke = () =>
        {
            _consumer.Resume([P0]);
            var error = Assert.Throws<KafkaException>(() => _consumer.Resume([P1]));
            Assert.Equal(ErrorCode.Local_State, error.Error.Code);
        };
        Start();

        Assert.Null(_consumer.Consume(Patience));

        Assert.Equal([$"resume orders[0] on {Environment.CurrentManagedThreadId} during-callback"], _inner.Log());
        Assert.Equal([$"revoked orders[0] on {Environment.CurrentManagedThreadId} after 0"], _listener.Calls);
    }

    [Fact]
    public void CallsAskedBeforeACallback_AreMadeBeforeIt_WhileThePartitionsAreStillAssigned()
    {
        _inner.AddRecords((0, 0), (0, 1), (0, 2), (1, 0));
        _inner.AddRevoke(0);
        _listener.OnRevoke = () => Assert.Single(_inner.Log());
        Start();
        Assert.Equal((0, 0L), Take(1)[0]);
        WaitFor(() => _inner.InCallback);

        _consumer.Pause([P0]);
        // The polling thread waits in the callback: nothing is made until the loop comes to it.
        var beforeTheCallback = _inner.Log().Count;
        var rest = Take(1);
        var atCallback = _consumer.Consume(Patience);

        Assert.Equal(0, beforeTheCallback);
        Assert.Equal([(1, 0L)], rest);
        Assert.Null(atCallback);
        Assert.Equal([$"pause orders[0] on {Environment.CurrentManagedThreadId} during-callback"], _inner.Log());
        Assert.Equal([$"revoked orders[0] on {Environment.CurrentManagedThreadId} after 2"], _listener.Calls);
    }

    [Fact]
    public void ConsumeErrors_AreThrownWhereTheyCame_AndPollingGoesOn()
    {
        _inner.AddRecords((0, 0));
        _inner.AddError(ErrorCode.Local_Transport);
        _inner.AddRecords((0, 1));
        Start();

        var first = Take(1);
        var error = Assert.Throws<ConsumeException>(() => _consumer.Consume(Patience));
        var second = Take(1);

        Assert.Equal([(0, 0L)], first);
        Assert.Equal(ErrorCode.Local_Transport, error.Error.Code);
        Assert.Equal([(0, 1L)], second);
    }

    [Fact]
    public void ACallbacksException_IsThrownToTheLoop_AndBackIntoTheClientsPoll()
    {
        _inner.AddAssign(0);
        _listener.OnAssign = () => throw new InvalidOperationException("restore failed");
        Start();

        var error = Assert.Throws<InvalidOperationException>(() => _consumer.Consume(Patience));

        Assert.Equal("restore failed", error.Message);
        WaitFor(() => _inner.CallbackErrors.Count == 1);
        Assert.Same(error, _inner.CallbackErrors[0]);
    }

    [Fact]
    public void TheHandOver_IsBounded_AndPollingWaitsForTheLoop()
    {
        _consumer = new FetchAheadConsumer(_inner, 512, Patience, NullLogger.Instance);
        _inner.AddRecords([.. Enumerable.Range(0, 5000).Select(i => (0, (long)i))]);
        Start();

        // Two batches handed over and one filled: the polling thread waits.
        WaitFor(() => _consumer.WaitingForRoom);
        var whenFull = _inner.Returned;
        Take(1);
        WaitFor(() => _inner.Returned > whenFull && _consumer.WaitingForRoom);

        Assert.Equal(3 * FetchAheadConsumer.BatchSize, whenFull);
        Assert.Equal(4 * FetchAheadConsumer.BatchSize, _inner.Returned);
    }

    [Fact]
    public void ACallTheClientRefuses_OnThePollingThread_IsThrownToTheLoop()
    {
        _inner.AssignedOnly = [1];
        _inner.AddRecords((1, 0));
        Start();
        Assert.Equal([(1, 0L)], Take(1));

        _consumer.Resume([P0]);

        var error = Assert.Throws<KafkaException>(() => _consumer.Consume(Patience));
        Assert.Equal(ErrorCode.Local_State, error.Error.Code);
    }

    [Fact]
    public void Close_StopsPollingFirst_RunsTheRevokeItWaitedIn_ThenClosesTheClient()
    {
        _inner.AddRecords((0, 0), (0, 1));
        _inner.AddRevoke(0);
        _inner.AddRecords((1, 0));
        _listener.OnRevoke = () => _consumer.Resume([P0]);
        Start();
        WaitFor(() => _inner.InCallback);

        _consumer.Close();

        Assert.True(_consumer.FetcherEnded);
        Assert.Equal([$"revoked orders[0] on {Environment.CurrentManagedThreadId} after 0"], _listener.Calls);
        Assert.Equal(
            [$"resume orders[0] on {Environment.CurrentManagedThreadId} during-callback", $"close on {Environment.CurrentManagedThreadId}"],
            _inner.Log());
        // The records fetched ahead were dropped, and nothing is polled any more.
        Assert.Equal(2, _inner.Returned);
    }

    [Fact]
    public void Close_AnswersAnAssignmentItWaitedIn_WithoutTheListener()
    {
        _inner.AddAssign(1);
        Start();
        WaitFor(() => _inner.InCallback);

        _consumer.Close();

        Assert.Empty(_listener.Calls);
        Assert.Equal([new TopicPartitionOffset(P1, Offset.Unset)], _inner.Answered);
        Assert.True(_inner.Closed);
    }

    [Fact]
    public void Dispose_WithoutClose_AnswersTheCallbackWithoutTheListener_AndEndsThePolling()
    {
        _inner.AddRevoke(0);
        Start();
        WaitFor(() => _inner.InCallback);

        _consumer.Dispose();

        Assert.True(_consumer.FetcherEnded);
        Assert.Empty(_listener.Calls);
        Assert.False(_inner.Closed);
    }

    [Fact]
    public void AStopThatWaitedItsBoundForAStuckPoll_IsNotWaitedAgain_ByTheStopsAfterIt()
    {
        // The close waits its bound for the polling thread; the session's end then asked again and waited
        // the bound a second time, past the 30 s the CLI gives a stop.
        var logs = new RecordingLogger();
        using var release = new ManualResetEventSlim();
        var inner = new ScriptedConsumer();
        inner.AddStuck(release);
        var consumer = new FetchAheadConsumer(inner, 16, TimeSpan.FromMilliseconds(200), logs);
        consumer.Subscribe("orders", _listener);
        WaitFor(() => inner.InPoll);

        consumer.Close();
        var second = consumer.TryStop();

        Assert.False(second);
        Assert.False(inner.Closed);
        Assert.Equal(1, logs.Count(25));
        release.Set();
        WaitFor(() => consumer.FetcherEnded);
        Assert.True(consumer.TryStop());
    }

    private static void WaitFor(Func<bool> condition) =>
        Assert.True(SpinWait.SpinUntil(condition, Patience), "the polling thread did not get there in time");

    private void Start() => _consumer.Subscribe("orders", _listener);

    /// <summary>Polls as the loop does until <paramref name="count"/> records came (a poll may find none).</summary>
    private List<(int Partition, long Offset)> Take(int count)
    {
        var got = new List<(int, long)>();
        var deadline = DateTime.UtcNow + Patience;
        while (got.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{got.Count} of {count} records came");
            if (_consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } record)
            {
                got.Add((record.Partition.Value, record.Offset.Value));
                _listener.Taken++;
            }
        }

        return got;
    }

    private sealed class Listener : IRebalanceListener
    {
        public List<string> Calls { get; } = [];

        public int Taken { get; set; }

        public long AssignAt { get; set; } = Offset.Unset.Value;

        public Action? OnAssign { get; set; }

        public Action? OnRevoke { get; set; }

        public IEnumerable<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions)
        {
            Write("assigned", partitions);
            OnAssign?.Invoke();
            return partitions.Select(p => new TopicPartitionOffset(p, AssignAt));
        }

        public void OnRevoked(IReadOnlyList<TopicPartition> partitions)
        {
            Write("revoked", partitions);
            OnRevoke?.Invoke();
        }

        public void OnLost(IReadOnlyList<TopicPartition> partitions) => Write("lost", partitions);

        private void Write(string what, IReadOnlyList<TopicPartition> partitions) =>
            Calls.Add($"{what} {string.Join(",", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]"))} on {Environment.CurrentManagedThreadId} after {Taken}");
    }
}
