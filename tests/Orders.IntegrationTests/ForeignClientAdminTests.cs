using System.Text.Json;
using Confluent.Kafka;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// Clients that are not built on librdkafka (KafkaJS, kafka-python) and kcat, using the admin API
/// and the controller as a new user would, against the local stack.
/// </summary>
[Collection(StackCollection.Name)]
public sealed class ForeignClientAdminTests(StackFixture fixture)
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(120);

    private static string KafkaJsScript => Path.Combine(ExternalTool.KafkaJsDirectory, "kafkajs_interop.js");

    private static string KafkaPythonScript => Path.Combine(AppContext.BaseDirectory, "Interop", "kafka_python_interop.py");

    [Fact]
    public void KafkaJs_CreatesATopicWithThreePartitions_AndDescribeClusterNamesTheRealController()
    {
        var node = ExternalTool.RequireNodeWithKafkaJs();
        var topic = StackFixture.Unique("kafkajs-admin");

        var result = ExternalTool.Run(node, [KafkaJsScript, "admin", fixture.BootstrapServers, topic], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var summary = JsonDocument.Parse(result.StandardOutput).RootElement;
        Assert.True(summary.GetProperty("created").GetBoolean());
        Assert.False(summary.GetProperty("createdAgain").GetBoolean()); // KafkaJS answers false for TopicAlreadyExists
        Assert.Equal(3, summary.GetProperty("partitions").GetInt32());
        Assert.Equal(fixture.Stack.Kafka.Cluster.ControllerId, summary.GetProperty("controller").GetInt32());
        Assert.Equal([1, 2], summary.GetProperty("brokers").EnumerateArray().Select(b => b.GetInt32()).Order());
    }

    [Fact]
    public void KafkaJs_IdempotentProducerAndConsumerGroup_RoundTripEveryRecord()
    {
        var node = ExternalTool.RequireNodeWithKafkaJs();
        var topic = StackFixture.Unique("kafkajs-roundtrip");

        var result = ExternalTool.Run(node, [KafkaJsScript, "roundtrip", fixture.BootstrapServers, topic, "60", StackFixture.Unique("kafkajs")], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var summary = JsonDocument.Parse(result.StandardOutput).RootElement;
        Assert.Equal(
            Enumerable.Range(0, 60).Select(i => $"v{i}").Order(),
            summary.GetProperty("values").EnumerateArray().Select(v => v.GetString()).Order());
        Assert.Equal([0, 1, 2], summary.GetProperty("partitions").EnumerateArray().Select(p => p.GetInt32()));
        // The mock answers LeaveGroup v3+ in the v2 layout; the relay offers v2 at most, so leaving the group is clean.
        Assert.DoesNotContain("LeaveGroup", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void KafkaPython_CreatesATopic_ADuplicateIsTopicAlreadyExists_AndDescribesItsConfigs()
    {
        var python = ExternalTool.RequirePythonWithKafkaPython();
        var topic = StackFixture.Unique("kafka-python-admin");

        var result = ExternalTool.Run(python, [KafkaPythonScript, "admin", fixture.BootstrapServers, topic], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var summary = JsonDocument.Parse(result.StandardOutput).RootElement;
        Assert.Equal([0], summary.GetProperty("createErrors").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("TopicAlreadyExistsError", summary.GetProperty("duplicate").GetString());
        Assert.Equal(5, summary.GetProperty("partitions").GetInt32());
        Assert.Equal("5242880", summary.GetProperty("configs").GetProperty("retention.bytes").GetString());
        Assert.Equal(fixture.Stack.Kafka.Cluster.ControllerId, summary.GetProperty("controller").GetInt32());
    }

    [Fact]
    public void KafkaPython_ProducesAndConsumesInAGroup()
    {
        var python = ExternalTool.RequirePythonWithKafkaPython();
        var topic = fixture.CreateTopic("kafka-python-roundtrip");

        var result = ExternalTool.Run(python, [KafkaPythonScript, "roundtrip", fixture.BootstrapServers, topic, "40", StackFixture.Unique("kafka-python")], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var values = JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetString());
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"v{i}").Order(), values.Order());
    }

    [Fact]
    public async Task Kcat_SeesTheControllerAndATopicCreatedThroughTheAdminApi_AndReadsWhatWasWrittenToIt()
    {
        var kcat = ExternalTool.RequireKcat();
        var topic = StackFixture.Unique("kcat-admin");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync([new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = 2, ReplicationFactor = 2 }]);
        }

        var produced = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-P", "-t", topic, "-p", "1"], ToolTimeout, stdin: "one\ntwo\n");
        var metadata = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-L", "-t", topic], ToolTimeout);
        var consumed = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-C", "-t", topic, "-p", "1", "-o", "beginning", "-e", "-q"], ToolTimeout);

        Assert.True(produced.ExitCode == 0, produced.ToString());
        Assert.True(metadata.ExitCode == 0, metadata.ToString());
        Assert.Contains($"broker {fixture.Stack.Kafka.Cluster.ControllerId} at 127.0.0.1:{fixture.Stack.Kafka.Ports[fixture.Stack.Kafka.Cluster.ControllerId - 1]} (controller)", metadata.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"topic \"{topic}\" with 2 partitions", metadata.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(["one", "two"], consumed.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
