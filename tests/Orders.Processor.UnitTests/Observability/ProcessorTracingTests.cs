using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Observability;
using Orders.Processor.Records;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests.Observability;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TracingCollection
{
    /// <summary>An activity listener hears every test's spans: these tests run alone.</summary>
    public const string Name = "tracing";
}

/// <summary>The processor's spans, from the real loop over fake ports, heard by an in-process listener.</summary>
[Collection(TracingCollection.Name)]
public sealed class ProcessorTracingTests : IDisposable
{
    private const string Writer = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private readonly ConcurrentQueue<Activity> _ended = new();
    private readonly ActivityListener _listener;

    public ProcessorTracingTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ProcessorTracing.SourceName,
            // Parent-based: a writer that did not sample its trace gets no span here either.
            Sample = (ref ActivityCreationOptions<ActivityContext> o) =>
                o.Parent != default && !o.Parent.TraceFlags.HasFlag(ActivityTraceFlags.Recorded) ? ActivitySamplingResult.None : ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ended.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task ARetriedRecord_OneProcessSpan_ChildOfItsWriter_RetriesAsEvents_HandlerInsideIt()
    {
        var handler = new TraceRecordingHandler(failures: 2);
        var run = new LoopHarness(o => o.RetryBaseDelay = o.RetryMaxDelay = TimeSpan.FromSeconds(1), handler);
        run.Consumer.Append(0, Traced(LoopHarness.Order(10, key: "o-1"), Writer));
        run.Consumer.Assign(0);

        var summary = await run.RunAsync(Timeout());

        Assert.Equal(1, summary.Counters.Processed);
        var span = Assert.Single(Spans("process orders"));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", span.TraceId.ToHexString());
        Assert.Equal("b7ad6b7169203331", span.ParentSpanId.ToHexString());
        Assert.Equal(ActivityKind.Consumer, span.Kind);
        Assert.Equal("processed", span.GetTagItem("orders.outcome"));
        Assert.Equal("o-1", span.GetTagItem("messaging.kafka.message.key"));
        Assert.Equal(LoopHarness.Group, span.GetTagItem("messaging.consumer.group.name"));
        Assert.Equal(0L, span.GetTagItem("messaging.kafka.offset"));
        Assert.Equal([1, 2], span.Events.Where(e => e.Name == "retry").Select(e => (int)e.Tags.Single(t => t.Key == "orders.retry.attempt").Value!));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        // Each of the three calls ran with the record's span as the current one.
        Assert.Equal([span.SpanId, span.SpanId, span.SpanId], handler.Seen);
    }

    [Fact]
    public async Task ARecordThatWaitsForTheRegistry_ItsSpanIsNotLeftCurrent_ForTheRecordsAfterIt()
    {
        var handler = new TraceRecordingHandler(failures: 0);
        var run = new LoopHarness(handler: handler);
        run.Registry.LookupGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        run.Consumer.Append(0, Traced(LoopHarness.Order(10, key: "first"), Writer));
        run.Consumer.Append(0, Traced(LoopHarness.Order(20, key: "unsampled"), Writer[..^2] + "00"));
        run.Consumer.Assign(0);

        var running = Task.Run(() => run.RunAsync(Timeout()), TestContext.Current.CancellationToken);
        // The first record's decode is then in flight, awaiting the registry: the asynchronous way.
        Assert.True(SpinWait.SpinUntil(() => run.Registry.SchemaCalls > 0, TimeSpan.FromSeconds(30)));
        run.Registry.LookupGate.SetResult();
        var summary = await running;

        Assert.Equal(2, summary.Counters.Processed);
        var first = Assert.Single(Spans("process orders"));
        Assert.Equal("first", first.GetTagItem("messaging.kafka.message.key"));
        // The first call ran inside its record's span; the second record has none, and its call saw none.
        Assert.Equal([first.SpanId, default], handler.Seen);
    }

    [Fact]
    public async Task AnInvalidOrder_ItsSpanFails_AndTheDeadLetterKeepsTheHeader_ItsWriteAChildSpan()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, Traced(LoopHarness.Order(-5, key: "bad"), Writer));
        run.Consumer.Assign(0);

        await run.RunAsync(Timeout());

        var process = Assert.Single(Spans("process orders"));
        Assert.Equal("invalid", process.GetTagItem("orders.outcome"));
        Assert.Equal(ActivityStatusCode.Error, process.Status);
        var write = Assert.Single(Spans($"send {Topics.DeadLetterFor(LoopHarness.Topic)}"));
        Assert.Equal(process.SpanId, write.ParentSpanId);
        Assert.Equal(process.TraceId, write.TraceId);
        Assert.Equal(ActivityKind.Producer, write.Kind);
        Assert.Equal("invalid", write.GetTagItem("orders.dead_letter.reason"));
        Assert.Equal(Writer, LoopHarness.Header(Assert.Single(run.DeadLetters), "traceparent"));
    }

    [Fact]
    public async Task APoisonRecord_WithoutTraceContext_IsARootSpan_OutcomePoison()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Poison());
        run.Consumer.Assign(0);

        await run.RunAsync(Timeout());

        var process = Assert.Single(Spans("process orders"));
        Assert.Equal(default, process.ParentSpanId);
        Assert.Equal("poison", process.GetTagItem("orders.outcome"));
        Assert.Equal("poison", process.GetTagItem("error.type"));
    }

    [Fact]
    public async Task CheckpointsAndRestores_AreSpansOfTheirOwn()
    {
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(10));
        run.Consumer.Assign(0);

        await run.RunAsync(Timeout());

        var checkpoint = Assert.Single(Spans($"checkpoint {Topics.StatsFor(LoopHarness.Topic)}"));
        Assert.Equal(default, checkpoint.ParentSpanId);
        Assert.Equal(ActivityStatusCode.Unset, checkpoint.Status);
        Assert.Single(Spans($"restore {LoopHarness.Topic}"));
    }

    [Fact]
    public async Task NoListener_NoSpan_AndNoHeaderAdded()
    {
        _listener.Dispose();
        var run = new LoopHarness();
        run.Consumer.Append(0, LoopHarness.Order(-5));
        run.Consumer.Assign(0);

        await run.RunAsync(Timeout());

        Assert.Empty(_ended);
        Assert.Null(LoopHarness.Header(Assert.Single(run.DeadLetters), "traceparent"));
    }

    private List<Activity> Spans(string name) => [.. _ended.Where(a => a.DisplayName == name)];

    private static Message<byte[]?, byte[]?> Traced(Message<byte[]?, byte[]?> message, string traceparent)
    {
        message.Headers.Add("traceparent", Encoding.ASCII.GetBytes(traceparent));
        return message;
    }

    private static CancellationToken Timeout() =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(TimeSpan.FromSeconds(30)).Token).Token;

    private sealed class TraceRecordingHandler(int failures) : IOrderHandler
    {
        private int _left = failures;

        public List<ActivitySpanId> Seen { get; } = [];

        public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
        {
            Seen.Add(Activity.Current?.SpanId ?? default);
            return _left-- > 0 ? throw new SimulatedTransientException("flaky") : ValueTask.CompletedTask;
        }
    }
}
