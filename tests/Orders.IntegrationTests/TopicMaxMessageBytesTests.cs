using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Orders.Contracts;
using Orders.IntegrationTests.Faults;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests;

/// <summary>
/// A topic's <c>max.message.bytes</c> on the local stack, as on a broker: a record batch above it is
/// refused with MESSAGE_TOO_LARGE while the request's other partitions are written; and
/// <c>orders produce</c> and the processor fit their batches to the limits they read from the topics.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class TopicMaxMessageBytesTests(StackFixture fixture, ITestOutputHelper output) : IAsyncDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    private readonly IAdminClient _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();

    private readonly List<string> _created = [];

    /// <summary>
    /// The topics with a limit are deleted: while any exists, the stack's relays read every produce
    /// request whole, and the other tests of the shared stack are meant to see them pass unread.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_created.Count > 0)
            {
                await _admin.DeleteTopicsAsync(_created);
            }
        }
        finally
        {
            _admin.Dispose();
        }
    }

    [Fact]
    public async Task ABatchAboveItsTopicsMaxMessageBytes_IsRefusedAsTooLarge_WhileThePartitionsBesideItAreWritten()
    {
        var small = await CreateAsync("small-batches", maxMessageBytes: 2_000);
        var free = await CreateAsync("any-batches", maxMessageBytes: null);
        // Three partitions led by one broker. (librdkafka sends each partition's batch in a request of its own;
        // a request that mixes refused and written partitions is KafkaJS's, below, and ProduceSizesTests'.)
        var leader = Leaders(small)[0];
        var smallOfLeader = Leaders(small).Where(l => l.Value == leader).Select(l => l.Key).ToList();
        var freeOfLeader = Leaders(free).First(l => l.Value == leader).Key;
        Assert.True(smallOfLeader.Count >= 2, $"broker {leader} leads {smallOfLeader.Count} partition(s) of {small}");
        var config = new ProducerConfig { BootstrapServers = fixture.BootstrapServers, LingerMs = 200, Acks = Acks.All };
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();

        var value = new byte[500];
        var tooLarge = Enumerable.Range(0, 10).Select(_ => producer.ProduceAsync(new TopicPartition(small, smallOfLeader[0]), new Message<Null, byte[]> { Value = value }, TestContext.Current.CancellationToken)).ToList();
        var fits = producer.ProduceAsync(new TopicPartition(small, smallOfLeader[1]), new Message<Null, byte[]> { Value = value }, TestContext.Current.CancellationToken);
        var noLimit = Enumerable.Range(0, 10).Select(_ => producer.ProduceAsync(new TopicPartition(free, freeOfLeader), new Message<Null, byte[]> { Value = value }, TestContext.Current.CancellationToken)).ToList();

        foreach (var refused in tooLarge)
        {
            var error = await Assert.ThrowsAsync<ProduceException<Null, byte[]>>(() => refused);
            Assert.Equal(ErrorCode.MsgSizeTooLarge, error.Error.Code);
        }

        Assert.Equal(PersistenceStatus.Persisted, (await fits).Status);
        Assert.All(await Task.WhenAll(noLimit), r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(fixture.ConsumerConfig(StackFixture.Unique("max-bytes"))).Build();
        Assert.Equal(0, consumer.QueryWatermarkOffsets(new TopicPartition(small, smallOfLeader[0]), TimeSpan.FromSeconds(10)).High.Value);
        Assert.Equal(1, consumer.QueryWatermarkOffsets(new TopicPartition(small, smallOfLeader[1]), TimeSpan.FromSeconds(10)).High.Value);
        Assert.Equal(10, consumer.QueryWatermarkOffsets(new TopicPartition(free, freeOfLeader), TimeSpan.FromSeconds(10)).High.Value);
    }

    [Fact]
    public async Task OrdersProduce_ToATopicThatTakesSmallerBatchesThanTheClientMakes_FitsItsBatchesToIt_EveryOrderIsAcknowledged()
    {
        var topic = await CreateAsync("small-orders", maxMessageBytes: 5_000);
        string[] produce = ["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "5000", "--json"];

        var fitted = await OrdersProcess.RunAsync(produce, Limit);
        var asConfigured = await OrdersProcess.RunAsync(produce, Limit, ("Kafka__batch.size", "1000000"));

        Assert.True(fitted.Exit == 0, fitted.Stderr);
        Assert.Contains($"Topic {topic} takes record batches of at most 5000 bytes (max.message.bytes): batch.size is 5000", fitted.Stderr, StringComparison.Ordinal);
        Assert.Equal(5000, JsonDocument.Parse(fitted.Stdout).RootElement.GetProperty("produced").GetInt64());
        // The same run with librdkafka's batch.size set by hand: its batches are refused, as a broker refuses them.
        Assert.True(asConfigured.Exit == 1, $"exit {asConfigured.Exit}: {asConfigured.Stderr}");
        Assert.Contains("Message size too large", asConfigured.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.True(JsonDocument.Parse(asConfigured.Stdout).RootElement.GetProperty("failed").GetInt64() > 0, asConfigured.Stdout);
    }

    [Fact]
    public async Task MaxMessageBytes_SetByAlterConfigs_IsReportedAndApplied_AndDeletingItLiftsTheLimit()
    {
        var topic = await CreateAsync("altered-limit", maxMessageBytes: null);
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        var config = new ProducerConfig { BootstrapServers = fixture.BootstrapServers, LingerMs = 0 };
        using var producer = new ProducerBuilder<Null, byte[]>(config).Build();
        var value = new byte[3_000];

        await _admin.IncrementalAlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "max.message.bytes", Value = "1000", IncrementalOperation = AlterConfigOpType.Set }] });
        var described = (await _admin.DescribeConfigsAsync([resource])).Single().Entries["max.message.bytes"];
        var refused = await Assert.ThrowsAsync<ProduceException<Null, byte[]>>(() => producer.ProduceAsync(new TopicPartition(topic, 0), new Message<Null, byte[]> { Value = value }, TestContext.Current.CancellationToken));
        await _admin.IncrementalAlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "max.message.bytes", IncrementalOperation = AlterConfigOpType.Delete }] });
        var written = await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<Null, byte[]> { Value = value }, TestContext.Current.CancellationToken);

        Assert.Equal("1000", described.Value);
        Assert.False(described.IsDefault);
        Assert.Equal(ErrorCode.MsgSizeTooLarge, refused.Error.Code);
        Assert.Equal(PersistenceStatus.Persisted, written.Status);
    }

    [Fact]
    public async Task StateTopicsThatTakeSmallBatches_TheProcessorsLettersAndCheckpointsFitThem_ALargeLetterIsTruncatedToIt_StatsAreExact()
    {
        var topic = StackFixture.Unique("small-state");
        var group = StackFixture.Unique("small-state");
        var kafka = fixture.Stack.Kafka;
        kafka.Cluster.CreateTopic(topic, 3, replicationFactor: 2);
        kafka.CreateTopic(new TopicSpec(Topics.DeadLetterFor(topic), 3) { Configs = new Dictionary<string, string> { ["max.message.bytes"] = "8000" } }, 2);
        kafka.CreateTopic(
            new TopicSpec(Topics.StatsFor(topic), 3) { Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact", ["max.message.bytes"] = "8000" } }, 2);
        _created.AddRange([topic, Topics.DeadLetterFor(topic), Topics.StatsFor(topic)]);
        string[] endpoints = OrdersCommand.Endpoints(fixture, topic);
        await OrdersCommand.RunJsonAsync(["produce", .. endpoints, "--count", "3000", "--invalid-ratio", "0.1", "--seed", "51"]);
        // A record whose letter, value and all, is larger than the dead-letter topic takes.
        var config = new ProducerConfig { BootstrapServers = fixture.BootstrapServers };
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(config).Build())
        {
            await producer.ProduceAsync(new TopicPartition(topic, 1), new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes("large"), Value = new byte[20_000] }, TestContext.Current.CancellationToken);
        }

        await OrdersCommand.RunJsonAsync(["produce", .. endpoints, "--count", "3000", "--invalid-ratio", "0.1", "--seed", "52"]);
        var summary = await OrdersCommand.RunJsonAsync(["consume", .. endpoints, "--group", group, "--until-idle", "3", "--checkpoint-interval", "0.5"]);

        output.WriteLine(summary.GetProperty("checkpoints").ToString());
        var letters = Oracle.ReadAll(fixture.BootstrapServers, Topics.DeadLetterFor(topic));
        var large = Assert.Single(letters, l => l.Message.Key is { } key && Encoding.UTF8.GetString(key) == "large");
        Assert.Contains("value (20000 bytes)", Encoding.UTF8.GetString(large.Message.Headers.GetLastBytes(DeadLetterHeaders.Truncated)), StringComparison.Ordinal);
        await Oracle.AssertExactAsync(endpoints, new ClientConfig { BootstrapServers = fixture.BootstrapServers }, topic, group, Oracle.Read(fixture.BootstrapServers, fixture.RegistryUrl, topic));
    }

    [Fact]
    public async Task KafkaJs_IdempotentProducerAndConsumerGroup_RoundTripEveryRecord_WhileTheRelaysReadProduceRequestsWhole()
    {
        var node = ExternalTool.RequireNodeWithKafkaJs();
        await CreateAsync("inspection-on", maxMessageBytes: 1_000);
        var topic = StackFixture.Unique("kafkajs-inspected");
        _created.Add(topic);

        var result = ExternalTool.Run(node, [Path.Combine(ExternalTool.KafkaJsDirectory, "kafkajs_interop.js"), "roundtrip", fixture.BootstrapServers, topic, "60", StackFixture.Unique("kafkajs")], Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetString());
        Assert.Equal(Enumerable.Range(0, 60).Select(i => $"v{i}").Order(), values.Order());
    }

    [Fact]
    public async Task KafkaJs_OneRequestWithABatchAboveTheLimitAndTwoWithin_IsAnsweredTooLargeForThatOne_TheOthersAreWritten()
    {
        var node = ExternalTool.RequireNodeWithKafkaJs();
        var topic = await CreateAsync("kafkajs-sized", maxMessageBytes: 2_000);
        var leader = Leaders(topic)[0];
        var ofLeader = Leaders(topic).Where(l => l.Value == leader).Select(l => l.Key).ToList();
        Assert.True(ofLeader.Count >= 3, $"broker {leader} leads {ofLeader.Count} partition(s) of {topic}");

        var result = ExternalTool.Run(
            node, [Path.Combine(ExternalTool.KafkaJsDirectory, "kafkajs_interop.js"), "sized", fixture.BootstrapServers, topic, "5000", .. ofLeader.Take(3).Select(p => $"{p}")], Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        var error = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("error");
        Assert.True(error.ValueKind == JsonValueKind.Object, result.StandardOutput);
        Assert.Equal("MESSAGE_TOO_LARGE", error.GetProperty("type").GetString());
        using var consumer = new ConsumerBuilder<Ignore, byte[]>(fixture.ConsumerConfig(StackFixture.Unique("kafkajs-sized"))).Build();
        long High(int partition) => consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(10)).High.Value;
        Assert.Equal([0L, 1L, 1L], ofLeader.Take(3).Select(High));
    }

    [Fact]
    public async Task KafkaPython_ProducesAndConsumesInAGroup_WhileTheRelaysReadProduceRequestsWhole()
    {
        var python = ExternalTool.RequirePythonWithKafkaPython();
        await CreateAsync("inspection-on", maxMessageBytes: 1_000);
        var topic = await CreateAsync("kafka-python-inspected", maxMessageBytes: 100_000);

        var result = ExternalTool.Run(python, [Path.Combine(AppContext.BaseDirectory, "Interop", "kafka_python_interop.py"), "roundtrip", fixture.BootstrapServers, topic, "40", StackFixture.Unique("kafka-python")], Limit);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetString());
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"v{i}").Order(), values.Order());
    }

    private async Task<string> CreateAsync(string prefix, int? maxMessageBytes)
    {
        var topic = StackFixture.Unique(prefix);
        var configs = maxMessageBytes is { } limit ? new Dictionary<string, string> { ["max.message.bytes"] = $"{limit}" } : [];
        await _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 6, ReplicationFactor = 2, Configs = configs }]);
        _created.Add(topic);
        return topic;
    }

    /// <returns>Each partition's leader, by partition.</returns>
    private SortedDictionary<int, int> Leaders(string topic) =>
        new(_admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.ToDictionary(p => p.PartitionId, p => p.Leader));
}
