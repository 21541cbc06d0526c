using Confluent.Kafka;
using Orders.IntegrationTests.Infrastructure;
using Orders.Kafka;

namespace Orders.IntegrationTests;

/// <summary>The admin-API topic provisioner the processor uses, against the local stack.</summary>
[Collection(StackCollection.Name)]
public sealed class TopicProvisionerTests(StackFixture fixture) : IDisposable
{
    private static readonly Dictionary<string, string> Compact = new() { ["cleanup.policy"] = "compact" };
    private readonly IAdminClient _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();

    public void Dispose() => _admin.Dispose();

    [Fact]
    public async Task EnsureAsync_CreatesTheMissingTopics_WithTheRequiredPartitions()
    {
        var (dlq, stats) = (StackFixture.Unique("prov-dlq"), StackFixture.Unique("prov-stats"));

        var result = await new TopicProvisioner(_admin).EnsureAsync([new(dlq, 6), new(stats, 6)], TestContext.Current.CancellationToken);

        Assert.Equal([new ProvisionedTopic(dlq, 6, TopicOutcome.Created), new ProvisionedTopic(stats, 6, TopicOutcome.Created)], result);
        Assert.Equal(6, Partitions(dlq));
        Assert.Equal(6, Partitions(stats));
    }

    [Fact]
    public async Task EnsureAsync_AnExistingTopicWithTheRightCount_IsLeftAsItIs()
    {
        var topic = fixture.CreateTopic("prov-existing", partitions: 3);

        var result = await new TopicProvisioner(_admin).EnsureAsync([new(topic, 3)], TestContext.Current.CancellationToken);

        Assert.Equal(TopicOutcome.AlreadyExisted, Assert.Single(result).Outcome);
    }

    [Fact]
    public async Task EnsureAsync_AnExistingTopicWithAnotherCount_FailsNamingTheTopicAndBothCounts()
    {
        var topic = fixture.CreateTopic("prov-mismatch", partitions: 3);

        var error = await Assert.ThrowsAsync<TopicProvisioningException>(() =>
            new TopicProvisioner(_admin).EnsureAsync([new(topic, 6)], TestContext.Current.CancellationToken));

        Assert.Equal(topic, error.Topic);
        Assert.Contains($"topic '{topic}' has 3 partitions, but 6 are required", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnsureAsync_AnOptionalConfigTheClusterRefuses_CreatesTheTopicWithTheRequiredOnesAlone_AndSaysWhy()
    {
        var topic = StackFixture.Unique("prov-optional");

        var result = await new TopicProvisioner(_admin).EnsureAsync(
            [new(topic, 2) { Configs = Compact, OptionalConfigs = new Dictionary<string, string> { ["retention.bytes"] = "1" } }], TestContext.Current.CancellationToken);

        var provisioned = Assert.Single(result);
        Assert.Equal(TopicOutcome.CreatedWithoutOptionalConfigs, provisioned.Outcome);
        Assert.Contains("cannot apply retention.bytes=1", provisioned.RefusedConfigsReason, StringComparison.Ordinal);
        Assert.Equal(2, Partitions(topic));
        Assert.Equal("compact", (await new TopicProvisioner(_admin).ConfigsAsync(topic, TestContext.Current.CancellationToken))["cleanup.policy"]);
    }

    [Fact]
    public async Task EnsureAsync_ARequiredConfigTheClusterRefuses_Fails_NamingIt_AndCreatesNothing()
    {
        var topic = StackFixture.Unique("prov-required");

        var error = await Assert.ThrowsAsync<TopicProvisioningException>(() =>
            new TopicProvisioner(_admin).EnsureAsync([new(topic, 2) { Configs = new Dictionary<string, string> { ["retention.bytes"] = "1" } }], TestContext.Current.CancellationToken));

        Assert.Contains($"cannot create topic '{topic}' (2 partitions, retention.bytes=1): PolicyViolation", error.Message, StringComparison.Ordinal);
        Assert.Null(await new TopicProvisioner(_admin).PartitionCountAsync(topic, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task EnsureAsync_CreatesWithTheReplicationFactorAndConfigsAsked()
    {
        var topic = StackFixture.Unique("prov-replicas");

        await new TopicProvisioner(_admin).EnsureAsync(
            [new(topic, 3) { ReplicationFactor = 2, Configs = new Dictionary<string, string> { ["min.insync.replicas"] = "2" } }], TestContext.Current.CancellationToken);

        Assert.All(_admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions, p => Assert.Equal(2, p.Replicas.Length));
        Assert.Equal("2", (await new TopicProvisioner(_admin).ConfigsAsync(topic, TestContext.Current.CancellationToken))["min.insync.replicas"]);
    }

    [Fact]
    public async Task EnsureAsync_TwoInstancesAtOnce_BothSucceed_AndEachTopicIsCreatedOnce()
    {
        var topics = Enumerable.Range(0, 5).Select(i => new TopicRequirement(StackFixture.Unique($"prov-race{i}"), 4)).ToList();
        using var otherAdmin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();

        var results = await Task.WhenAll(
            new TopicProvisioner(_admin).EnsureAsync(topics, TestContext.Current.CancellationToken),
            new TopicProvisioner(otherAdmin).EnsureAsync(topics, TestContext.Current.CancellationToken));

        foreach (var topic in topics)
        {
            var outcomes = results.Select(r => r.Single(p => p.Name == topic.Name).Outcome).Order();
            Assert.Equal([TopicOutcome.Created, TopicOutcome.AlreadyExisted], outcomes);
            Assert.Equal(4, Partitions(topic.Name));
        }
    }

    [Fact]
    public async Task PartitionCountAsync_AnUnknownTopic_IsNull_AndIsNotCreated()
    {
        var topic = StackFixture.Unique("prov-unknown");
        var provisioner = new TopicProvisioner(_admin);

        Assert.Null(await provisioner.PartitionCountAsync(topic, TestContext.Current.CancellationToken));
        Assert.Null(await provisioner.PartitionCountAsync(topic, TestContext.Current.CancellationToken));
    }

    private int Partitions(string topic) =>
        _admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions.Count;
}
