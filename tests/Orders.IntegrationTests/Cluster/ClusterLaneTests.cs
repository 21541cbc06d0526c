using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.IntegrationTests.Faults;
using Orders.IntegrationTests.Infrastructure;
using Orders.Kafka;

namespace Orders.IntegrationTests.Cluster;

/// <summary>
/// The pipeline against whatever cluster <see cref="ClusterTarget"/> points at (<c>dotnet test --filter
/// Category=Cluster</c> with <c>ORDERS_TEST_BOOTSTRAP</c> and <c>ORDERS_TEST_REGISTRY</c>): only what
/// any Kafka and Schema Registry offer (no fault injection, no broker the test controls), <c>orders</c>
/// run as the user runs it, and an independent reading of the topics to check it against.
/// </summary>
[Trait("Category", "Cluster")]
[Collection(ClusterCollection.Name)]
public sealed class ClusterLaneTests(ClusterTarget cluster, ITestOutputHelper output)
{
    private static readonly string[] Currencies = ["EUR", "USD", "GBP", "JPY"];

    /// <summary>A KIP-848 broker hands a crashed member's partitions on after its session (45 s by default on a real one).</summary>
    private static readonly TimeSpan AssignmentWait = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task AnIndependentClientsOrders_AreCountedExactly_PerCurrency()
    {
        var topic = await cluster.CreateInputTopicAsync("independent", partitions: 4);
        var group = StackFixture.Unique("lane-independent");

        var sent = await ProduceWithConfluentsSerializerAsync(topic, 2000, seed: 1);
        using var processor = new ProcessorProcess([.. cluster.Endpoints(topic), "--group", group, "--until-idle", "5", "--json"]);
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(3));

        Assert.True(processor.ExitCode == 0, processor.StandardError);
        Assert.Equal(2000, sent.Values.Sum(c => c.Count));
        var stats = await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
        foreach (var (currency, (count, priceSum, valueSum)) in sent)
        {
            var counted = stats.GetProperty("currencies").GetProperty(currency);
            Assert.Equal(count, counted.GetProperty("count").GetInt64());
            Assert.Equal(priceSum, Decimal(counted.GetProperty("price").GetProperty("sum")));
            Assert.Equal(valueSum, Decimal(counted.GetProperty("orderValue").GetProperty("sum")));
        }
    }

    [Fact]
    public async Task PoisonAndInvalidRecords_AreDeadLetteredOnce_AndReplayedToTheirTopic()
    {
        var topic = await cluster.CreateInputTopicAsync("dead-letters", partitions: 3);
        var group = StackFixture.Unique("lane-dead-letters");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "600", "--invalid-ratio", "0.05", "--seed", "2"]);
        using (var producer = cluster.Producer<byte[]?, byte[]?>())
        {
            foreach (var poison in new byte[][] { [0x7f, 1, 2, 3], [0, 0x7f, 0x7f, 0x7f, 0x7f, 2], [] })
            {
                await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes("poison"), Value = poison }, TestContext.Current.CancellationToken);
            }
        }

        await ConsumeUntilIdleAsync(topic, group);
        var invalid = produced.GetProperty("invalid").GetInt64();
        var stats = await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
        Assert.Equal(invalid, stats.GetProperty("deadLettered").GetProperty("invalid").GetInt64());
        Assert.Equal(3, stats.GetProperty("deadLettered").GetProperty("poison").GetInt64());

        var replay = await OrdersCommand.RunJsonAsync(["dlq", "replay", .. cluster.Endpoints(topic), "--reason", "invalid"]);
        await ConsumeUntilIdleAsync(topic, group);

        Assert.Equal(invalid, replay.GetProperty("replayed").GetInt64());
        var copies = Oracle.ReadAll(cluster.Client, topic).Where(r => r.Message.Headers?.TryGetLastBytes("dlq.replayed.origin", out _) == true).ToList();
        Assert.Equal(invalid, copies.Count);
        // Still invalid: dead-lettered again, each copy once, and the counts stay exact.
        var after = await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
        Assert.Equal(2 * invalid, after.GetProperty("deadLettered").GetProperty("invalid").GetInt64());
    }

    [Fact]
    public async Task AProcessorKilledMidRun_AndRestarted_EndsExact()
    {
        var topic = await cluster.CreateInputTopicAsync("kill9", partitions: 6);
        var group = StackFixture.Unique("lane-kill9");
        string[] consume = [.. cluster.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];

        var producing = OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "20000", "--rate", "2000", "--invalid-ratio", "0.02", "--seed", "3"]);
        using (var first = new ProcessorProcess(consume))
        {
            output.WriteLine($"first: restored after {(await first.WaitForLogAsync("Restored", AssignmentWait)).TotalSeconds:F1} s");
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            first.Kill();
        }

        Assert.Equal(20_000, (await producing).GetProperty("produced").GetInt64());
        using (var second = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"]))
        {
            await second.WaitForExitAsync(TimeSpan.FromMinutes(4));
            Assert.True(second.ExitCode == 0, second.StandardError);
        }

        await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
    }

    [Fact]
    public async Task ScaledOutToTwoProcessors_WhileOrdersFlow_EndsExact()
    {
        var topic = await cluster.CreateInputTopicAsync("scale", partitions: 6);
        var group = StackFixture.Unique("lane-scale");
        string[] consume = [.. cluster.Endpoints(topic), "--group", group, "--checkpoint-interval", "1", "--until-idle", "8", "--json"];

        using var first = new ProcessorProcess(consume);
        await first.WaitForLogAsync("Restored", AssignmentWait);
        var producing = OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "12000", "--rate", "2000", "--invalid-ratio", "0.02", "--seed", "4"]);
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        using var second = new ProcessorProcess(consume);
        await second.WaitForLogAsync("Restored", AssignmentWait);

        Assert.Equal(12_000, (await producing).GetProperty("produced").GetInt64());
        await first.WaitForExitAsync(TimeSpan.FromMinutes(3));
        await second.WaitForExitAsync(TimeSpan.FromMinutes(3));
        Assert.True(first.ExitCode == 0, first.StandardError);
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("Partitions revoked", first.StandardError, StringComparison.Ordinal);
        await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
    }

    [Fact]
    public async Task OrdersStats_JoinsNoGroup_AndCombinesEveryPartitionsCheckpoint()
    {
        var topic = await cluster.CreateInputTopicAsync("stats", partitions: 5);
        var group = StackFixture.Unique("lane-stats");
        await OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "1000", "--seed", "5"]);
        var consumed = await ConsumeUntilIdleAsync(topic, group);

        var stats = await OrdersCommand.RunJsonAsync(["stats", .. cluster.Endpoints(topic), "--group", group]);

        Assert.Equal(1000, consumed.GetProperty("processed").GetInt64());
        Assert.Equal(1000, stats.GetProperty("count").GetInt64());
        var partitions = stats.GetProperty("partitions").EnumerateArray().ToList();
        Assert.Equal(5, partitions.Count);
        Assert.Equal(1000, partitions.Sum(p => p.GetProperty("nextOffset").GetInt64()));
        Assert.All(partitions, p => Assert.Equal(0, p.GetProperty("lag").GetInt64()));
        Assert.Equal(
            consumed.GetProperty("currencies").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("price").GetProperty("sum").GetString()),
            stats.GetProperty("currencies").EnumerateObject().ToDictionary(c => c.Name, c => c.Value.GetProperty("price").GetProperty("sum").GetString()));
    }

    [Fact]
    public async Task TraceHeaders_GoFromTheProducerThroughTheProcessorIntoTheDeadLetters()
    {
        var topic = await cluster.CreateInputTopicAsync("traced", partitions: 2);
        var group = StackFixture.Unique("lane-traced");
        using var receiver = OtlpReceiver.Start();
        (string, string)[] otel = [("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint), ("OTEL_BSP_SCHEDULE_DELAY", "200")];

        var produce = await OrdersProcess.RunAsync(["produce", .. cluster.Endpoints(topic), "--count", "200", "--invalid-ratio", "0.1", "--seed", "6"], TimeSpan.FromMinutes(2), otel);
        var consume = await OrdersProcess.RunAsync(["consume", .. cluster.Endpoints(topic), "--group", group, "--until-idle", "3"], TimeSpan.FromMinutes(3), otel);

        Assert.True(produce.Exit == 0, produce.Stderr);
        Assert.True(consume.Exit == 0, consume.Stderr);
        var parents = Oracle.ReadAll(cluster.Client, topic).Select(r => TraceParent(r.Message.Headers)).ToList();
        Assert.Equal(200, parents.Count);
        Assert.All(parents, p => Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", p));
        var letters = Oracle.ReadAll(cluster.Client, Topics.DeadLetterFor(topic));
        Assert.NotEmpty(letters);
        Assert.All(letters, l => Assert.Contains(TraceParent(l.Message.Headers), parents));
        var processes = receiver.Spans.Where(s => s.Service == "orders-processor" && s.Name == $"process {topic}").ToList();
        var traces = parents.Select(p => p.Split('-')[1]).ToHashSet();
        Assert.Equal(200, processes.Count);
        Assert.All(processes, p => Assert.Contains(p.TraceId, traces));
    }

    [Fact]
    public async Task TheStateTopics_AreCompacted_AndAsReplicatedAsTheInput_AndTheGroupProtocolIsTheBrokers()
    {
        var topic = await cluster.CreateInputTopicAsync("state-topics", partitions: 3);
        var apis = await BrokerApis.ProbeAsync(cluster.Client, TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var consume = await OrdersProcess.RunAsync(["consume", .. cluster.Endpoints(topic), "--until-idle", "2"], TimeSpan.FromMinutes(2));

        Assert.True(consume.Exit == 0, consume.Stderr);
        var expected = apis?.Offers(BrokerApis.ConsumerGroupHeartbeat) == true ? "consumer" : "classic";
        Assert.Contains($"Group protocol: {expected} (", consume.Stderr, StringComparison.Ordinal);
        using var admin = cluster.Admin();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(30));
        var replicas = metadata.Topics.Single(t => t.Topic == topic).Partitions.Max(p => p.Replicas.Length);
        foreach (var state in new[] { Topics.DeadLetterFor(topic), Topics.StatsFor(topic) })
        {
            Assert.All(metadata.Topics.Single(t => t.Topic == state).Partitions, p => Assert.Equal(replicas, p.Replicas.Length));
        }

        var described = await admin.DescribeConfigsAsync(
            [new ConfigResource { Type = ResourceType.Topic, Name = topic }, new ConfigResource { Type = ResourceType.Topic, Name = Topics.StatsFor(topic) }]);
        Assert.Equal("compact", described[1].Entries["cleanup.policy"].Value);
        Assert.Equal(described[0].Entries["min.insync.replicas"].Value, described[1].Entries["min.insync.replicas"].Value);
    }

    [Fact]
    public async Task ASecondRunOverTheSameGroup_ResumesFromTheCheckpoints_AndCountsOnlyWhatIsNew()
    {
        var topic = await cluster.CreateInputTopicAsync("resume", partitions: 3);
        var group = StackFixture.Unique("lane-resume");
        await OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "500", "--seed", "7"]);
        var first = await ConsumeUntilIdleAsync(topic, group);
        await OrdersCommand.RunJsonAsync(["produce", .. cluster.Endpoints(topic), "--count", "300", "--seed", "8"]);

        var second = await ConsumeUntilIdleAsync(topic, group);

        Assert.Equal(500, first.GetProperty("processed").GetInt64());
        Assert.Equal(300, second.GetProperty("processed").GetInt64());
        await Oracle.AssertExactAsync(cluster.Endpoints(topic), cluster.Client, topic, group, Oracle.Read(cluster.Client, cluster.Registry, topic));
    }

    private async Task<JsonElement> ConsumeUntilIdleAsync(string topic, string group)
    {
        var run = await OrdersProcess.RunAsync(["consume", .. cluster.Endpoints(topic), "--group", group, "--until-idle", "3", "--json"], TimeSpan.FromMinutes(3));
        Assert.True(run.Exit == 0, run.Stderr);
        return JsonDocument.Parse(run.Stdout).RootElement.Clone();
    }

    /// <summary>Orders written with Confluent's own Avro serializer, not ours: per currency, the count and exact sums sent.</summary>
    private async Task<Dictionary<string, (long Count, decimal PriceSum, decimal ValueSum)>> ProduceWithConfluentsSerializerAsync(string topic, int count, int seed)
    {
        var random = new Random(seed);
        var sent = new Dictionary<string, (long Count, decimal PriceSum, decimal ValueSum)>();
        using var registry = new CachedSchemaRegistryClient(cluster.Registry);
        using var producer = cluster.Producer<string, Order>(b => b.SetValueSerializer(new AvroSerializer<Order>(registry).AsSyncOverAsync()));
        var failed = 0;
        for (var i = 0; i < count; i++)
        {
            var order = new Order
            {
                OrderId = Guid.NewGuid().ToString(),
                Product = $"lane-product-{random.Next(20)}",
                Price = Math.Round(0.5 + (random.NextDouble() * 900), 2),
                Quantity = 1 + random.Next(10),
                Currency = Currencies[random.Next(Currencies.Length)],
                CreatedAt = DateTime.UtcNow,
                Channel = "lane",
            };
            producer.Produce(topic, new Message<string, Order> { Key = order.OrderId, Value = order }, report =>
            {
                if (report.Error.IsError)
                {
                    Interlocked.Increment(ref failed);
                }
            });
            var price = (decimal)order.Price;
            var (c, p, v) = sent.GetValueOrDefault(order.Currency);
            sent[order.Currency] = (c + 1, p + price, v + (price * order.Quantity));
        }

        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(60)), TestContext.Current.CancellationToken);
        Assert.Equal(0, Volatile.Read(ref failed));
        return sent;
    }

    private static string TraceParent(Headers? headers) =>
        headers?.TryGetLastBytes(TraceHeaders.TraceParent, out var bytes) == true ? Encoding.ASCII.GetString(bytes) : "";

    private static decimal Decimal(JsonElement value) => decimal.Parse(value.GetString()!, CultureInfo.InvariantCulture);
}
