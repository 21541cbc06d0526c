using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>Confluent's AdminClient (librdkafka) through the relays: the admin API the mock itself lacks.</summary>
[Collection(StackCollection.Name)]
public sealed class AdminApiTests(StackFixture fixture) : IDisposable
{
    private readonly IAdminClient _admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();

    public void Dispose() => _admin.Dispose();

    [Fact]
    public async Task CreateTopics_CreatesTheTopicWithTheRequestedPartitions_AndItTakesRecords()
    {
        var topic = StackFixture.Unique("admin-create");

        await _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 7, ReplicationFactor = 2 }]);
        using var producer = new ProducerBuilder<string, string>(fixture.ProducerConfig()).Build();
        var delivered = await producer.ProduceAsync(new TopicPartition(topic, 6), new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken);

        var partitions = _admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        Assert.Equal(7, partitions.Count);
        Assert.All(partitions, p => Assert.Equal(2, p.Replicas.Length));
        Assert.Equal(PersistenceStatus.Persisted, delivered.Status);
    }

    [Fact]
    public async Task CreateTopics_DefaultPartitionsAndReplication_UseTheBrokerDefaults()
    {
        var topic = StackFixture.Unique("admin-defaults");

        await _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = -1, ReplicationFactor = -1 }]);

        var partitions = _admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions;
        Assert.Equal(4, partitions.Count);
        Assert.All(partitions, p => Assert.Equal(2, p.Replicas.Length));
    }

    [Theory]
    [InlineData(ErrorCode.TopicAlreadyExists, "existing", 3, 1, "Topic '{0}' already exists.")]
    [InlineData(ErrorCode.InvalidPartitions, "zero-partitions", 0, 1, "Number of partitions was set to an invalid non-positive value.")]
    [InlineData(ErrorCode.InvalidReplicationFactor, "rf-too-high", 3, 3, "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered.")]
    [InlineData(ErrorCode.InvalidReplicationFactor, "rf-zero", 3, 0, "Replication factor must be larger than 0, or -1 to use the default value.")]
    [InlineData(ErrorCode.TopicException, "bad name!", 3, 1, "Topic name \"{0}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'")]
    public async Task CreateTopics_InvalidRequests_GetKafkasErrorAndMessage(ErrorCode expected, string prefix, int partitions, short replicationFactor, string message)
    {
        var topic = expected == ErrorCode.TopicAlreadyExists ? fixture.CreateTopic(prefix) : StackFixture.Unique(prefix);

        var error = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = replicationFactor }]));

        var result = Assert.Single(error.Results);
        Assert.Equal(expected, result.Error.Code);
        Assert.Equal(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, topic), result.Error.Reason);
    }

    [Fact]
    public async Task CreateTopics_ValidateOnly_ChecksButCreatesNothing()
    {
        var topic = StackFixture.Unique("admin-validate");

        await _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1 }], new CreateTopicsOptions { ValidateOnly = true });
        var invalid = await Assert.ThrowsAsync<CreateTopicsException>(() =>
            _admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = 0, ReplicationFactor = 1 }], new CreateTopicsOptions { ValidateOnly = true }));

        Assert.DoesNotContain(_admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
        Assert.Equal(ErrorCode.InvalidPartitions, invalid.Results.Single().Error.Code);
    }

    [Fact]
    public async Task CreateTopics_WithConfigs_KeepsThem_AndDescribeConfigsReportsThemAsSet()
    {
        var topic = StackFixture.Unique("admin-compact");

        await _admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1, Configs = new() { ["cleanup.policy"] = "compact", ["min.insync.replicas"] = "2" } }]);
        var result = (await _admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }])).Single();

        Assert.Equal("compact", result.Entries["cleanup.policy"].Value);
        Assert.Equal("2", result.Entries["min.insync.replicas"].Value);
        Assert.False(result.Entries["cleanup.policy"].IsDefault);
        Assert.Equal(ConfigSource.DynamicTopicConfig, result.Entries["cleanup.policy"].Source);
        Assert.True(result.Entries["retention.ms"].IsDefault);
    }

    [Fact]
    public async Task CreateTopics_WithAConfigTheMockCannotApply_IsRefusedAsAPolicyViolation_SayingWhy()
    {
        var topic = StackFixture.Unique("admin-size");

        var error = await Assert.ThrowsAsync<CreateTopicsException>(() => _admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 3, ReplicationFactor = 1, Configs = new() { ["retention.bytes"] = "-1" } }]));

        var result = error.Results.Single();
        Assert.Equal(ErrorCode.PolicyViolation, result.Error.Code);
        Assert.Contains("cannot apply retention.bytes=-1", result.Error.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(_admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
    }

    [Theory]
    [InlineData("no.such.config", "1", "Unknown topic config name: no.such.config")]
    [InlineData("cleanup.policy", "shred", "Invalid value shred for configuration cleanup.policy: String must be one of: compact, delete (not shred)")]
    [InlineData("retention.ms", "soon", "Invalid value soon for configuration retention.ms: Not a number")]
    public async Task CreateTopics_WithAnUnknownConfigOrABadValue_IsAnInvalidConfig_AndCreatesNothing(string name, string value, string message)
    {
        var topic = StackFixture.Unique("admin-invalid-config");

        var error = await Assert.ThrowsAsync<CreateTopicsException>(() => _admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { [name] = value } }]));

        Assert.Equal(ErrorCode.InvalidConfig, error.Results.Single().Error.Code);
        Assert.Equal(message, error.Results.Single().Error.Reason);
        Assert.DoesNotContain(_admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
    }

    [Fact]
    public async Task DescribeConfigs_Topic_ReportsTheLimitsTheMockApplies_AsReadOnly()
    {
        var topic = fixture.CreateTopic("admin-describe");

        var result = (await _admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = topic }])).Single();

        Assert.Equal("5242880", result.Entries["retention.bytes"].Value);
        Assert.Equal("-1", result.Entries["retention.ms"].Value);
        Assert.Equal("delete", result.Entries["cleanup.policy"].Value);
        Assert.Equal("100000000", result.Entries["max.message.bytes"].Value);
        Assert.True(result.Entries["retention.bytes"].IsReadOnly);
        Assert.False(result.Entries["max.message.bytes"].IsReadOnly);
        Assert.False(result.Entries["cleanup.policy"].IsReadOnly);
        Assert.All(result.Entries.Values, e => Assert.True(e.IsDefault, e.Name));
    }

    [Fact]
    public async Task DescribeConfigs_Broker_ReportsItsIdAndDefaults()
    {
        var result = (await _admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Broker, Name = "2" }])).Single();

        Assert.Equal("2", result.Entries["broker.id"].Value);
        Assert.Equal("4", result.Entries["num.partitions"].Value);
        Assert.Equal("5242880", result.Entries["log.retention.bytes"].Value);
    }

    [Fact]
    public async Task DescribeConfigs_UnknownTopic_IsUnknownTopicOrPartition()
    {
        var error = await Assert.ThrowsAsync<DescribeConfigsException>(() =>
            _admin.DescribeConfigsAsync([new ConfigResource { Type = ResourceType.Topic, Name = StackFixture.Unique("nope") }]));

        Assert.Equal(ErrorCode.UnknownTopicOrPart, error.Results.Single().Error.Code);
    }

    [Fact]
    public async Task AlterConfigs_ToAValueTheMockCannotApply_IsAPolicyViolation_TheSameValueIsAccepted()
    {
        var topic = fixture.CreateTopic("admin-alter");
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        await _admin.IncrementalAlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "retention.bytes", Value = "5242880", IncrementalOperation = AlterConfigOpType.Set }] });
        var error = await Assert.ThrowsAsync<IncrementalAlterConfigsException>(() =>
            _admin.IncrementalAlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "retention.bytes", Value = "1073741824", IncrementalOperation = AlterConfigOpType.Set }] }));
#pragma warning disable CS0618 // AlterConfigs is deprecated in favour of the incremental API, and still used by clients
        var legacy = await Assert.ThrowsAsync<AlterConfigsException>(() =>
            _admin.AlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "compression.type", Value = "zstd" }] }));
#pragma warning restore CS0618

        Assert.Equal(ErrorCode.PolicyViolation, error.Results.Single().Error.Code);
        Assert.Contains("retention.bytes=1073741824", error.Results.Single().Error.Reason, StringComparison.Ordinal);
        Assert.Equal(ErrorCode.PolicyViolation, legacy.Results.Single().Error.Code);
    }

    [Fact]
    public async Task IncrementalAlterConfigs_SetsAppendsAndDeletes_AsDescribeConfigsThenReports()
    {
        var topic = fixture.CreateTopic("admin-incremental");
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };

        await _admin.IncrementalAlterConfigsAsync(new()
        {
            [resource] =
            [
                new ConfigEntry { Name = "cleanup.policy", Value = "compact", IncrementalOperation = AlterConfigOpType.Append },
                new ConfigEntry { Name = "retention.ms", Value = "3600000", IncrementalOperation = AlterConfigOpType.Set },
            ],
        });
        var altered = (await _admin.DescribeConfigsAsync([resource])).Single();
        await _admin.IncrementalAlterConfigsAsync(new()
        {
            [resource] =
            [
                new ConfigEntry { Name = "cleanup.policy", Value = "delete", IncrementalOperation = AlterConfigOpType.Subtract },
                new ConfigEntry { Name = "retention.ms", IncrementalOperation = AlterConfigOpType.Delete },
            ],
        });
        var reverted = (await _admin.DescribeConfigsAsync([resource])).Single();

        Assert.Equal("delete,compact", altered.Entries["cleanup.policy"].Value);
        Assert.Equal("3600000", altered.Entries["retention.ms"].Value);
        Assert.Equal("compact", reverted.Entries["cleanup.policy"].Value);
        Assert.Equal("-1", reverted.Entries["retention.ms"].Value);
        Assert.True(reverted.Entries["retention.ms"].IsDefault);
    }

    [Fact]
    public async Task AlterConfigs_ReplacesEveryConfigSetBefore_AsKafkaDoes()
    {
        var topic = StackFixture.Unique("admin-replace");
        var resource = new ConfigResource { Type = ResourceType.Topic, Name = topic };
        await _admin.CreateTopicsAsync(
            [new TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["cleanup.policy"] = "compact", ["retention.ms"] = "1000" } }]);

#pragma warning disable CS0618 // AlterConfigs is deprecated in favour of the incremental API, and still used by clients
        await _admin.AlterConfigsAsync(new() { [resource] = [new ConfigEntry { Name = "min.insync.replicas", Value = "2" }] });
#pragma warning restore CS0618
        var result = (await _admin.DescribeConfigsAsync([resource])).Single();

        Assert.Equal("2", result.Entries["min.insync.replicas"].Value);
        Assert.Equal("delete", result.Entries["cleanup.policy"].Value);
        Assert.Equal("-1", result.Entries["retention.ms"].Value);
    }

    [Fact]
    public async Task DeleteTopics_RemovesTheTopic_AndAnUnknownOneIsUnknownTopicOrPartition()
    {
        var topic = fixture.CreateTopic("admin-delete");
        var unknown = StackFixture.Unique("admin-never");

        await _admin.DeleteTopicsAsync([topic]);
        var error = await Assert.ThrowsAsync<DeleteTopicsException>(() => _admin.DeleteTopicsAsync([unknown]));

        Assert.DoesNotContain(_admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
        Assert.Equal(ErrorCode.UnknownTopicOrPart, error.Results.Single().Error.Code);
    }

    [Fact]
    public async Task DescribeCluster_NamesALiveBrokerAsController()
    {
        var cluster = await _admin.DescribeClusterAsync();

        Assert.NotNull(cluster.Controller);
        Assert.Contains(cluster.Controller.Id, cluster.Nodes.Select(n => n.Id));
        Assert.Equal(fixture.Stack.Kafka.Cluster.ControllerId, cluster.Controller.Id);
    }
}
