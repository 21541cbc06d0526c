using System.Text.Json;
using Orders.IntegrationTests.Faults;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>Which topic a verb works on, however it was set; and a topic that does not exist yet.</summary>
[Collection(StackCollection.Name)]
public sealed class TopicSettingTests(StackFixture fixture)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task ProcessorTopic_FromTheEnvironment_ReachesConsume_StatsAndDlq()
    {
        var topic = fixture.CreateOrderTopics("envtopic");
        await OrdersCommand.RunJsonAsync(["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--count", "30"]);
        var environment = ("Processor__Topic", topic);
        var group = StackFixture.Unique("env");
        string[] endpoints = ["--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl];

        var consumed = await OrdersProcess.RunAsync(["consume", .. endpoints, "--until-idle", "3", "--no-http", "--group", group, "--json"], Limit, environment);
        var stats = await OrdersProcess.RunAsync(["stats", .. endpoints, "--group", group, "--json"], Limit, environment);

        Assert.True(consumed.Exit == 0, consumed.Stderr);
        Assert.Equal(30, JsonDocument.Parse(consumed.Stdout).RootElement.GetProperty("processed").GetInt64());
        Assert.True(stats.Exit == 0, stats.Stderr);
        Assert.Equal(topic, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("topic").GetString());
        Assert.Equal(30, JsonDocument.Parse(stats.Stdout).RootElement.GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task ANeverCreatedTopic_WithUntilIdle_GivesUpWithOneLineNamingIt_Exit1()
    {
        var topic = StackFixture.Unique("never-created");

        var (exit, _, stderr) = await OrdersProcess.RunAsync(
            ["consume", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--until-idle", "2", "--no-http"],
            Limit,
            ("Processor__FirstAssignmentWait", "00:00:05"));

        Assert.Equal(1, exit);
        var last = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith($"orders: topic {topic} does not exist", last, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATopicCreatedAfterTheProcessorStarted_IsProcessedInFull()
    {
        var topic = StackFixture.Unique("created-later");
        var group = StackFixture.Unique("later");
        using var processor = new ProcessorProcess(
            ["--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--group", group, "--no-http", "--json",
                "--checkpoint-interval", "0.5"]);
        await processor.WaitForLogAsync($"Topic {topic} does not exist yet; waiting for it", TimeSpan.FromSeconds(60));

        StackFixture.CreateOrderTopics(fixture.Stack.Kafka, topic, partitions: 3, replicationFactor: 2);
        var produced = await OrdersCommand.RunJsonAsync(["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--count", "40"]);
        await processor.WaitForLogAsync("Partitions assigned", TimeSpan.FromSeconds(60));
        var counted = await WaitForCountAsync(topic, group, 40);
        await processor.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(40, produced.GetProperty("produced").GetInt64());
        Assert.Equal(40, counted);
        Assert.Equal(0, processor.ExitCode);
    }

    [Fact]
    public async Task Stats_OfAnInputWithMorePartitionsThanItsStatsTopic_IsOneLineNamingBoth_NotFiguresMissingPartitions()
    {
        // Before: the stats topic's partitions were taken for the input's, so partitions 3 and 4 (and their lag) went unreported.
        var topic = StackFixture.Unique("stats-partitions");
        fixture.Stack.Kafka.Cluster.CreateTopic(topic, 5, replicationFactor: 1);
        StackFixture.CreateStatsTopic(fixture.Stack.Kafka, topic, 3, replicationFactor: 1);

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["stats", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--json"], Limit);

        Assert.True(exit == 1, $"exit {exit}: {stdout}{stderr}");
        Assert.Equal("", stdout);
        Assert.Contains($"{topic} has 5 partitions and {Orders.Contracts.Topics.StatsFor(topic)} 3", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stats_OfPartitionsNeverCheckpointed_CountTheirLagFromWhereTheyStartNow_NotFromZero()
    {
        var topic = fixture.CreateOrderTopics("stats-lag");
        var produced = await OrdersCommand.RunJsonAsync(["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--count", "300"]);
        Assert.Equal(300, produced.GetProperty("produced").GetInt64());
        // Retention took partition 0's first 20 records: no processor will ever read them.
        fixture.Stack.Kafka.Cluster.DeleteRecords(topic, 0, 20);

        var stats = await OrdersCommand.RunJsonAsync(["stats", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--group", StackFixture.Unique("nobody")]);

        var partitions = stats.GetProperty("partitions").EnumerateArray().ToList();
        Assert.All(partitions, p => Assert.False(p.GetProperty("checkpointed").GetBoolean()));
        Assert.Equal(280, partitions.Sum(p => p.GetProperty("lag").GetInt64()));
        Assert.Equal(partitions[0].GetProperty("endOffset").GetInt64() - 20, partitions[0].GetProperty("lag").GetInt64());
    }

    private async Task<long> WaitForCountAsync(string topic, string group, long expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        long count = 0;
        while (DateTime.UtcNow < deadline)
        {
            var stats = await OrdersCommand.RunJsonAsync(["stats", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", fixture.RegistryUrl, "--topic", topic, "--group", group]);
            count = stats.GetProperty("count").GetInt64();
            if (count >= expected)
            {
                return count;
            }

            await Task.Delay(500, TestContext.Current.CancellationToken);
        }

        return count;
    }
}
