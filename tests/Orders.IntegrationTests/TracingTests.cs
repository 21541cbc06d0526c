using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// OpenTelemetry traces end to end, on the local stack: <c>orders produce</c>, <c>consume</c> and
/// <c>dlq replay</c> run as processes of their own with <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> set, and
/// export to an in-test OTLP/HTTP receiver. Records are read back with a plain consumer, spans
/// with the receiver's own protobuf reader.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class TracingTests(StackFixture fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task OrdersProducedConsumedDeadLetteredAndReplayed_EachOrderOneTrace_AcrossBothServices()
    {
        var topic = CreateTopics("traced");
        var group = StackFixture.Unique("traced");
        using var receiver = OtlpReceiver.Start();
        (string, string)[] otel = [("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200")];

        var produced = await RunJsonAsync(["produce", .. Endpoints(topic), "--count", "500", "--invalid-ratio", "0.02", "--seed", "18"], otel);
        // Written by a client that traces too: a poison record continues its writer's trace.
        var poisonParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        await ProducePoisonAsync(topic, poisonParent);
        var consumed = await RunAsync(
            ["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3", "--fail-ratio", "0.2", "--max-attempts", "2", "--retry-delay-ms", "5", "--json"], otel);

        // Every record the producer wrote carries the context of its own send span.
        var records = ReadTopic(topic).Where(r => r.Message.Value is not [0xff, ..]).ToList();
        Assert.Equal(500, records.Count);
        var spans = receiver.Spans;
        var sends = spans.Where(s => s.Service == "orders-producer" && s.Name == $"send {topic}").ToDictionary(s => s.SpanId);
        Assert.Equal(500, sends.Count);
        foreach (var record in records)
        {
            var parent = Header(record.Message, "traceparent");
            Assert.NotNull(parent);
            var (traceId, spanId) = TraceParent(parent);
            var send = sends[spanId];
            Assert.Equal(traceId, send.TraceId);
            Assert.Equal(ReceivedSpan.Producer, send.Kind);
            Assert.Equal("kafka", send.Text("messaging.system"));
            Assert.Equal(Encoding.UTF8.GetString(record.Message.Key!), send.Text("messaging.kafka.message.key"));
            Assert.Equal(record.Partition.Value.ToString(), send.Text("messaging.destination.partition.id"));
            Assert.Equal(record.Offset.Value, send.Attributes["messaging.kafka.offset"]);
        }

        // Each record's process span is a child of its send span; its outcome is the processor's count of it.
        var summary = JsonDocument.Parse(consumed.Stdout).RootElement;
        var dead = summary.GetProperty("deadLettered");
        var processes = spans.Where(s => s.Service == "orders-processor" && s.Name == $"process {topic}").ToList();
        var outcomes = processes.GroupBy(p => p.Text("orders.outcome")!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(summary.GetProperty("processed").GetInt64(), outcomes.GetValueOrDefault("processed"));
        Assert.Equal(produced.GetProperty("invalid").GetInt64(), outcomes.GetValueOrDefault("invalid"));
        Assert.Equal(dead.GetProperty("retries-exhausted").GetInt64(), outcomes.GetValueOrDefault("retries-exhausted"));
        Assert.Equal(1, outcomes.GetValueOrDefault("poison"));
        Assert.True(dead.GetProperty("retries-exhausted").GetInt64() > 0, "no order exhausted its retries: the run does not test that path");
        var processedTraces = processes.Where(p => p.Text("orders.outcome") == "processed").Select(p => p.TraceId).ToHashSet();
        var withBoth = processedTraces.Count(t => sends.Values.Any(s => s.TraceId == t));
        Assert.Equal(processedTraces.Count, withBoth);
        foreach (var process in processes.Where(p => p.Text("orders.outcome") != "poison"))
        {
            var send = sends[process.ParentSpanId];
            Assert.Equal(send.TraceId, process.TraceId);
            Assert.Equal(ReceivedSpan.Consumer, process.Kind);
            Assert.Equal(group, process.Text("messaging.consumer.group.name"));
            Assert.Equal(send.Text("messaging.kafka.offset"), process.Text("messaging.kafka.offset"));
        }

        Assert.Equal(TraceParent(poisonParent), (processes.Single(p => p.Text("orders.outcome") == "poison").TraceId, processes.Single(p => p.Text("orders.outcome") == "poison").ParentSpanId));
        // Retries are events of the record's one span; what failed is an error.
        var retried = processes.Where(p => p.Events.Any(e => e.Name == "retry")).ToList();
        Assert.Equal(summary.GetProperty("retried").GetInt64(), retried.Sum(p => p.Events.Count(e => e.Name == "retry")));
        Assert.All(processes.Where(p => p.Text("orders.outcome") != "processed"), p => Assert.Equal(ReceivedSpan.StatusError, p.StatusCode));
        Assert.All(retried.Where(p => p.Text("orders.outcome") == "retries-exhausted"), p => Assert.Single(p.Events, e => e.Name == "retry"));

        // Each dead letter keeps the record's traceparent; its write is a child span of the record's.
        var letters = ReadTopic(Topics.DeadLetterFor(topic));
        Assert.Equal(dead.GetProperty("total").GetInt64(), letters.Count);
        var dlqSends = spans.Where(s => s.Service == "orders-processor" && s.Name == $"send {Topics.DeadLetterFor(topic)}").ToDictionary(s => s.ParentSpanId);
        foreach (var letter in letters)
        {
            var original = records.SingleOrDefault(r => r.Message.Key is { } key && letter.Message.Key is { } letterKey && key.AsSpan().SequenceEqual(letterKey));
            var parent = Header(letter.Message, "traceparent");
            Assert.Equal(original is null ? poisonParent : Header(original.Message, "traceparent"), parent);
            var process = processes.Single(p => p.TraceId == TraceParent(parent!).TraceId && p.Text("orders.outcome") != "processed");
            var write = dlqSends[process.SpanId];
            Assert.Equal(process.TraceId, write.TraceId);
            Assert.Equal(ReceivedSpan.Producer, write.Kind);
            Assert.Equal(process.Text("orders.outcome"), write.Text("orders.dead_letter.reason"));
            Assert.Equal(letter.Offset.Value, write.Attributes["messaging.kafka.offset"]);
        }

        // Checkpoints are spans of their own; a log line about a record carries its trace id.
        Assert.Contains(spans, s => s.Service == "orders-processor" && s.Name == $"checkpoint {Topics.StatsFor(topic)}" && s.ParentSpanId == "");
        var deadLetteredTrace = processes.First(p => p.Text("orders.outcome") == "retries-exhausted").TraceId;
        Assert.Contains(consumed.Stderr.Split('\n'), l => l.Contains("dead-letter", StringComparison.OrdinalIgnoreCase) && l.Contains($"TraceId:{deadLetteredTrace}", StringComparison.Ordinal));

        // A replay is a trace of its own, linked to the original; the replayed record continues the replay's.
        var replay = await RunJsonAsync(["dlq", "replay", .. Endpoints(topic), "--reason", "retries-exhausted"], otel);
        var replayed = replay.GetProperty("letters").EnumerateArray().Count(l => l.GetProperty("outcome").GetString() == "replayed");
        Assert.Equal(dead.GetProperty("retries-exhausted").GetInt64(), replayed);
        var replaySends = receiver.Spans.Where(s => s.Service == "orders-dlq" && s.Name == $"send {topic}").ToList();
        Assert.Equal(replayed, replaySends.Count);
        var copies = ReadTopic(topic).Where(r => Header(r.Message, "dlq.replayed.from") is not null).ToList();
        Assert.Equal(replayed, copies.Count);
        foreach (var copy in copies)
        {
            var (traceId, spanId) = TraceParent(Header(copy.Message, "traceparent")!);
            var span = replaySends.Single(s => s.SpanId == spanId);
            Assert.Equal(traceId, span.TraceId);
            var original = records.Single(r => r.Message.Key!.AsSpan().SequenceEqual(copy.Message.Key));
            Assert.Equal(TraceParent(Header(original.Message, "traceparent")!), Assert.Single(span.Links));
            Assert.Equal(copy.Offset.Value, span.Attributes["messaging.kafka.offset"]);
        }

        // The next processor restores the group's checkpoints (a span) and processes the copies in the replay's traces.
        var again = await RunJsonAsync(["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3"], otel);
        Assert.Equal(replayed, again.GetProperty("processed").GetInt64());
        var after = receiver.Spans;
        Assert.Contains(after, s => s.Service == "orders-processor" && s.Name == $"restore {topic}");
        var continued = after.Where(s => s.Name == $"process {topic}" && replaySends.Any(r => r.SpanId == s.ParentSpanId && r.TraceId == s.TraceId)).ToList();
        Assert.Equal(replayed, continued.Count);
        Assert.All(continued, s => Assert.Equal("processed", s.Text("orders.outcome")));
    }

    [Fact]
    public async Task ACollectorThatRefusesEveryExport_IsSaidInTheLog_TheOrdersGoOn()
    {
        var topic = CreateTopics("refused-traces");
        using var receiver = OtlpReceiver.Start();
        receiver.RefuseWith = System.Net.HttpStatusCode.InternalServerError;

        var (_, stderr) = await RunAsync(["produce", .. Endpoints(topic), "--count", "20"], [("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "100")]);

        Assert.True(receiver.Requests > 0, "no export was tried");
        var line = Assert.Single(stderr.Split('\n'), l => l.Contains("Traces not exported", StringComparison.Ordinal));
        Assert.Contains("the spans are dropped", line, StringComparison.Ordinal);
        Assert.Equal(20, ReadTopic(topic).Count);
    }

    [Fact]
    public async Task ACollectorThatIsNotThere_IsSaidInTheLog()
    {
        var topic = CreateTopics("unreachable-traces");

        var (_, stderr) = await RunAsync(["produce", .. Endpoints(topic), "--count", "5"], [("OTEL_EXPORTER_OTLP_ENDPOINT", $"http://127.0.0.1:{OrdersProcess.FreePort()}"), ("OTEL_BSP_SCHEDULE_DELAY", "100")]);

        Assert.Contains(stderr.Split('\n'), l => l.Contains("Traces not exported, the spans are dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NoEndpoint_RecordsCarryNoTraceHeaders()
    {
        var topic = CreateTopics("untraced");
        await RunJsonAsync(["produce", .. Endpoints(topic), "--count", "20"], []);

        Assert.All(ReadTopic(topic), r => Assert.Null(Header(r.Message, "traceparent")));
    }

    [Fact]
    public async Task RatioSampler_UnsampledOrdersStillCarryTheirContext_AndNoServiceExportsThem()
    {
        var topic = CreateTopics("sampled");
        using var receiver = OtlpReceiver.Start();
        (string, string)[] otel = [("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint), ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0.1")];

        await RunJsonAsync(["produce", .. Endpoints(topic), "--count", "400"], otel);
        await RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("sampled"), "--until-idle", "3"], otel);

        var records = ReadTopic(topic);
        var flags = records.Select(r => Header(r.Message, "traceparent")!).ToLookup(Sampled);
        Assert.Equal(400, flags[true].Count() + flags[false].Count());
        Assert.InRange(flags[true].Count(), 10, 100);
        var sampled = flags[true].Select(p => TraceParent(p).TraceId).ToHashSet();
        var spans = receiver.Spans.Where(s => s.Name == $"send {topic}" || s.Name == $"process {topic}").ToList();
        // The processor follows the producer's decision: exactly the sampled traces, each with both services.
        Assert.Equal(sampled.Order(), spans.Where(s => s.Service == "orders-producer").Select(s => s.TraceId).Order());
        Assert.Equal(sampled.Order(), spans.Where(s => s.Service == "orders-processor").Select(s => s.TraceId).Order());
    }

    [Fact]
    public async Task RatioSampler_WithPropagateUnsampledOff_OnlySampledOrdersCarryContext_AndTheProcessorDecidesTheRestAfresh()
    {
        var topic = CreateTopics("unpropagated");
        using var receiver = OtlpReceiver.Start();
        (string, string)[] otel =
        [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint), ("OTEL_TRACES_SAMPLER", "parentbased_traceidratio"), ("OTEL_TRACES_SAMPLER_ARG", "0.1"),
            ("OpenTelemetry__PropagateUnsampled", "false"),
        ];

        await RunJsonAsync(["produce", .. Endpoints(topic), "--count", "400"], otel);
        await RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("unpropagated"), "--until-idle", "3"], otel);

        var records = ReadTopic(topic);
        var parents = records.Select(r => Header(r.Message, "traceparent")).ToList();
        Assert.Equal(400, parents.Count);
        Assert.All(parents.OfType<string>(), p => Assert.True(Sampled(p), p));
        Assert.InRange(parents.Count(p => p is not null), 10, 100);
        Assert.All(records.Where(r => Header(r.Message, "traceparent") is null), r => Assert.Null(Header(r.Message, "tracestate")));
        var spans = receiver.Spans.Where(s => s.Name == $"send {topic}" || s.Name == $"process {topic}").ToList();
        var sent = spans.Where(s => s.Service == "orders-producer").Select(s => s.TraceId).ToHashSet();
        Assert.Equal(parents.OfType<string>().Select(p => TraceParent(p).TraceId).Order(), sent.Order());

        // The records without context: the processor samples them as new traces, about a tenth, none of them the producer's.
        var processed = spans.Where(s => s.Service == "orders-processor").Select(s => s.TraceId).ToList();
        Assert.True(sent.IsSubsetOf(processed));
        Assert.InRange(processed.Count - sent.Count, 5, 100);
    }

    /// <summary>The W3C sampled flag (bit 0 of the flags; .NET sets the random bit, 0x02, beside it).</summary>
    private static bool Sampled(string traceparent) => (Convert.ToByte(traceparent.Split('-')[3], 16) & 0x01) != 0;

    private static (string TraceId, string SpanId) TraceParent(string traceparent)
    {
        var parts = traceparent.Split('-');
        Assert.Equal(4, parts.Length);
        return (parts[1], parts[2]);
    }

    private string CreateTopics(string prefix)
    {
        var topic = fixture.CreateTopic(prefix);
        fixture.Stack.Kafka.Cluster.CreateTopic(Topics.DeadLetterFor(topic), 3, replicationFactor: 2);
        StackFixture.CreateStatsTopic(fixture.Stack.Kafka, topic, 3, replicationFactor: 2);
        return topic;
    }

    private string[] Endpoints(string topic) => OrdersCommand.Endpoints(fixture, topic);

    private static async Task<(string Stdout, string Stderr)> RunAsync(string[] args, (string, string)[] environment)
    {
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(args, Limit, environment);
        Assert.True(exit == 0, $"orders {string.Join(' ', args)} exited {exit}: {stderr}");
        return (stdout, stderr);
    }

    private static async Task<JsonElement> RunJsonAsync(string[] args, (string, string)[] environment) =>
        JsonDocument.Parse((await RunAsync([.. args, "--json"], environment)).Stdout).RootElement.Clone();

    private async Task ProducePoisonAsync(string topic, string traceparent)
    {
        using var producer = new ProducerBuilder<byte[], byte[]>(fixture.ProducerConfig()).Build();
        var message = new Message<byte[], byte[]> { Key = "poison"u8.ToArray(), Value = [0xff, 0x00], Headers = [new Header("traceparent", Encoding.ASCII.GetBytes(traceparent))] };
        await producer.ProduceAsync(topic, message, TestContext.Current.CancellationToken);
    }

    private static string? Header(Message<byte[]?, byte[]?> message, string key) =>
        message.Headers is { } headers && headers.TryGetLastBytes(key, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>Every record a topic holds now, from each partition's start to its end.</summary>
    private List<ConsumeResult<byte[]?, byte[]?>> ReadTopic(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(fixture.ConsumerConfig(StackFixture.Unique("verify"))).Build();
        var partitions = Enumerable.Range(0, 3)
            .Select(p => (Partition: p, Watermarks: consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10))))
            .Where(p => p.Watermarks.High.Value > p.Watermarks.Low.Value)
            .ToList();
        consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p.Partition, Offset.Beginning)));
        var expected = (int)partitions.Sum(p => p.Watermarks.High.Value - p.Watermarks.Low.Value);
        var records = KafkaTestClient.ConsumeAll(consumer, expected, TimeSpan.FromSeconds(30));
        Assert.Equal(expected, records.Count);
        return records;
    }
}
