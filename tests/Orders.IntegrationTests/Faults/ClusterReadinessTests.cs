using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests.Faults;

/// <summary>
/// What a real cluster does differently from the default local stack: an older broker without
/// KIP-848 (a stack answering as Kafka 3.9), topic configs that decide whether checkpoints survive,
/// and replication. Each test has a stack of its own.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class ClusterReadinessTests(ITestOutputHelper output)
{
    private static readonly KafkaVersion Kafka39 = KafkaVersion.Parse("3.9");

    private static string PythonScript => Path.Combine(AppContext.BaseDirectory, "Interop", "avro_interop.py");

    private static string KafkaPythonScript => Path.Combine(AppContext.BaseDirectory, "Interop", "kafka_python_interop.py");

    [Fact]
    public async Task OnAKafka39Broker_TheProcessorUsesTheClassicProtocol_SaysWhy_AndCountsAnIndependentClientsOrdersExactly()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        await using var stack = await FaultStack.StartAsync(kafkaVersion: Kafka39);
        var topic = stack.CreateOrderTopics("classic-py", partitions: 4);
        var group = StackFixture.Unique("classic-py");

        var client = ProducePythonOrders(python, stack, topic, 3000);
        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--group", group, "--until-idle", "3", "--json"]);
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(2));

        Assert.True(processor.ExitCode == 0, processor.StandardError);
        Assert.Contains("Group protocol: classic (the broker at 127.0.0.1:", processor.StandardError, StringComparison.Ordinal);
        Assert.Contains("does not offer KIP-848 (no ConsumerGroupHeartbeat", processor.StandardError, StringComparison.Ordinal);
        var stats = await OrdersCommand.RunJsonAsync(["stats", .. stack.Endpoints(topic), "--group", group]);
        Assert.Equal(client.GetProperty("produced").GetInt64(), stats.GetProperty("count").GetInt64());
        foreach (var currency in client.GetProperty("currencies").EnumerateObject())
        {
            var ours = stats.GetProperty("currencies").GetProperty(currency.Name);
            Assert.Equal(currency.Value.GetProperty("count").GetInt64(), ours.GetProperty("count").GetInt64());
            Assert.Equal(Decimal(currency.Value.GetProperty("priceSum")), Decimal(ours.GetProperty("price").GetProperty("sum")));
            Assert.Equal(Decimal(currency.Value.GetProperty("orderValueSum")), Decimal(ours.GetProperty("orderValue").GetProperty("sum")));
        }
    }

    [Fact]
    public async Task OnAKafka39Broker_GroupProtocolConsumer_EndsWithinSeconds_InOneLineNamingTheSetting()
    {
        await using var stack = await FaultStack.StartAsync(kafkaVersion: Kafka39);
        var topic = stack.CreateOrderTopics("kip848-missing", partitions: 2);

        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "60"], ("Kafka__group.protocol", "consumer"));
        await processor.WaitForExitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, processor.ExitCode);
        var last = processor.StandardError.TrimEnd().Split('\n')[^1];
        Assert.StartsWith("orders: Kafka:group.protocol is consumer (KIP-848), but the broker at 127.0.0.1:", last, StringComparison.Ordinal);
        Assert.Contains("does not offer KIP-848", last, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - processor.StartedAt < TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task UnderTheClassicProtocol_KilledRestartedAndScaled_WhileOrdersFlow_StatsAreExact()
    {
        await using var stack = await FaultStack.StartAsync(kafkaVersion: Kafka39);
        var topic = stack.CreateOrderTopics("classic-kill", partitions: 8);
        var group = StackFixture.Unique("classic-kill");
        string[] consume = [.. stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];
        // Kafka's minimum session (group.min.session.timeout.ms): a member that joins after a crash waits about twice it on the mock.
        (string, string)[] session = [("Kafka__session.timeout.ms", "6000")];

        var producing = OrdersCommand.RunJsonAsync(["produce", .. stack.Endpoints(topic), "--count", "40000", "--rate", "2000", "--invalid-ratio", "0.02", "--seed", "61"]);
        for (var kill = 1; kill <= 2; kill++)
        {
            using var processor = new ProcessorProcess(consume, session);
            output.WriteLine($"run {kill}: restored after {(await processor.WaitForLogAsync("Restored", TimeSpan.FromSeconds(90))).TotalSeconds:F1} s");
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            processor.Kill();
        }

        using (var first = new ProcessorProcess(consume, session))
        using (var second = new ProcessorProcess(consume, session))
        {
            await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(90));
            await second.WaitForLogAsync("Restored", TimeSpan.FromSeconds(90));
            Assert.Contains("Group protocol: classic", first.StandardError, StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            await second.TerminateAsync(TimeSpan.FromSeconds(45));
            Assert.True(second.ExitCode == 0, second.StandardError);
            await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
            first.Kill();
        }

        Assert.Equal(40_000, (await producing).GetProperty("produced").GetInt64());
        using (var last = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"], session))
        {
            await last.WaitForExitAsync(TimeSpan.FromMinutes(3));
            Assert.True(last.ExitCode == 0, last.StandardError);
        }

        var stats = await Oracle.AssertExactAsync(stack, topic, group, Oracle.Read(stack.Kafka.BootstrapServers, stack.RegistryUrl, topic));
        Oracle.AssertCommitsFollowCheckpoints(stack, group, stats);
    }

    [Fact]
    public async Task StateTopicsTheProcessorCreates_CopyTheInputsReplication_AndTheStatsTopicIsCompacted()
    {
        await using var stack = await FaultStack.StartAsync(brokers: 3);
        var topic = StackFixture.Unique("replicated");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.Kafka.BootstrapServers }).Build();
        await admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } }]);

        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "2"]);
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(processor.ExitCode == 0, processor.StandardError);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var created in new[] { Topics.DeadLetterFor(topic), Topics.StatsFor(topic) })
        {
            Assert.All(metadata.Topics.Single(t => t.Topic == created).Partitions, p => Assert.Equal(3, p.Replicas.Length));
            var configs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = created }])).Single().Entries;
            Assert.Equal("2", configs["min.insync.replicas"].Value);
            Assert.Contains($"Created topic {created} with 3 partitions, replication factor 3", processor.StandardError, StringComparison.Ordinal);
        }

        var stats = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = Topics.StatsFor(topic) }])).Single().Entries;
        Assert.Equal("compact", stats["cleanup.policy"].Value);
    }

    [Fact]
    public async Task StateTopicsGivenFewerReplicasThanTheInputsMinInsync_GetAsManyInSync_NotTopicsNoWriteCouldReach()
    {
        // Kafka creates a topic with min.insync.replicas above its replicas (KAFKA-4680), and then refuses every write with
        // acks=all: copied from the input with only the replication factor overridden, that was what the processor created.
        await using var stack = await FaultStack.StartAsync(brokers: 3);
        var topic = StackFixture.Unique("fewer-replicas");
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.Kafka.BootstrapServers }).Build();
        await admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 3, Configs = new() { ["min.insync.replicas"] = "2" } }]);

        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "2"], ("Processor__CreatedTopics__ReplicationFactor", "1"));
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(processor.ExitCode == 0, processor.StandardError);
        Assert.Contains($"{topic} has min.insync.replicas=2, more than the 1 replica(s) set for the topics the processor creates", processor.StandardError, StringComparison.Ordinal);
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        foreach (var created in new[] { Topics.DeadLetterFor(topic), Topics.StatsFor(topic) })
        {
            Assert.All(metadata.Topics.Single(t => t.Topic == created).Partitions, p => Assert.Single(p.Replicas));
            var configs = (await admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = created }])).Single().Entries;
            Assert.Equal("1", configs["min.insync.replicas"].Value);
        }
    }

    [Fact]
    public async Task AConfiguredMinInsyncAboveTheReplicasTheInputGivesTheStateTopics_IsOneLine_Exit1_NoTopicCreated()
    {
        await using var stack = await FaultStack.StartAsync();
        var topic = StackFixture.Unique("isr-above");
        stack.Cluster.CreateTopic(topic, 2, 1);

        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "2"], ("Processor__CreatedTopics__MinInsyncReplicas", "2"));
        await processor.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, processor.ExitCode);
        Assert.Contains("orders: Processor:CreatedTopics:MinInsyncReplicas is 2, but the topics it creates get 1 replica(s)", processor.StandardError, StringComparison.Ordinal);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.Kafka.BootstrapServers }).Build();
        Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == Topics.StatsFor(topic));
    }

    [Fact]
    public async Task AProcessorCreatedStatsTopic_IsCompacted_ToKafkaPythonsDescribeConfigsToo()
    {
        var python = ExternalTool.RequirePythonWithKafkaPython();
        await using var stack = await FaultStack.StartAsync();
        var topic = StackFixture.Unique("compacted");
        stack.Cluster.CreateTopic(topic, 2, 1);

        using (var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "2"]))
        {
            await processor.WaitForExitAsync(TimeSpan.FromMinutes(1));
            Assert.True(processor.ExitCode == 0, processor.StandardError);
        }

        var result = ExternalTool.Run(python, [KafkaPythonScript, "describe", stack.Kafka.BootstrapServers, Topics.StatsFor(topic)], TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("compact", JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("configs").GetProperty("cleanup.policy").GetString());
    }

    [Theory]
    [InlineData("delete", "retention.ms", "86400000")]
    [InlineData("delete", "retention.bytes", "5242880")]
    [InlineData("compact,delete", "retention.ms", "604800000")]
    public async Task AnExistingStatsTopicWhoseRetentionCanDeleteCheckpoints_IsRefusedAtStart_NamingTheTopicAndTheFix(string policy, string retention, string value)
    {
        await using var stack = await FaultStack.StartAsync();
        var topic = StackFixture.Unique("deleting");
        stack.Cluster.CreateTopic(topic, 2, 1);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = stack.Kafka.BootstrapServers }).Build();
        var configs = new Dictionary<string, string> { ["cleanup.policy"] = policy };
        if (retention != "retention.bytes")
        {
            configs[retention] = value; // the stack's retention.bytes is fixed: a delete policy alone reports it
        }

        await admin.CreateTopicsAsync([new TopicSpecification { Name = Topics.StatsFor(topic), NumPartitions = 2, ReplicationFactor = 1, Configs = configs }]);

        using var processor = new ProcessorProcess([.. stack.Endpoints(topic), "--until-idle", "5"]);
        await processor.WaitForExitAsync(TimeSpan.FromSeconds(45));

        Assert.Equal(1, processor.ExitCode);
        var last = processor.StandardError.TrimEnd().Split('\n')[^1];
        Assert.StartsWith($"orders: {Topics.StatsFor(topic)} can delete checkpoints (cleanup.policy={policy} with {retention}={value}", last, StringComparison.Ordinal);
        Assert.EndsWith(
            $"kafka-configs.sh --bootstrap-server {stack.Kafka.BootstrapServers} --alter --entity-type topics --entity-name {Topics.StatsFor(topic)} --add-config cleanup.policy=compact",
            last,
            StringComparison.Ordinal);
        Assert.DoesNotContain("Restored", processor.StandardError, StringComparison.Ordinal);
    }

    private static decimal Decimal(JsonElement value) => decimal.Parse(value.GetString()!, CultureInfo.InvariantCulture);

    private static JsonElement ProducePythonOrders(string python, FaultStack stack, string topic, int count)
    {
        var orderAvsc = Path.Combine(AppContext.BaseDirectory, "order.avsc");
        string[] args = [PythonScript, "produce-orders", stack.Kafka.BootstrapServers, stack.RegistryUrl, topic, count.ToString(CultureInfo.InvariantCulture), orderAvsc, "0"];
        var result = ExternalTool.Run(python, args, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.StandardOutput).RootElement;
    }
}
