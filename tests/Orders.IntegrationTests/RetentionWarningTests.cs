using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests;

/// <summary>The stack warns when the mock's retention (~5 MiB per partition) drops records, and applies a topic's retention.ms.</summary>
public sealed class RetentionWarningTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);
    private readonly FakeTimeProvider _time = new();
    private readonly CapturingLoggerFactory _logs = new();
    private LocalKafka _kafka = null!;

    public ValueTask InitializeAsync()
    {
        _kafka = LocalKafka.Start(new LocalKafkaOptions { Brokers = 1, Port = 0, RetentionCheckInterval = Interval, TimeProvider = _time }, _logs);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task ProducingPastRetention_IsReportedOnTheNextCheck_WithTheNumberOfRecordsDropped()
    {
        var topic = StackFixture.Unique("retention");
        _kafka.Cluster.CreateTopic(topic, partitions: 1, replicationFactor: 1);

        await ProduceAsync(topic, megabytes: 8);
        var warning = await _logs.WaitForAsync(e => e.Message.Contains(topic, StringComparison.Ordinal), TimeSpan.FromSeconds(30), () => _time.Advance(Interval));

        var low = LowWatermark(topic);
        Assert.True(low > 0, "the mock kept everything: the test produced too little to exercise retention");
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Equal($"{topic}[0]: {low:N0} oldest records dropped (the local stack keeps ~5 MiB per partition)", warning.Message);
    }

    [Fact]
    public async Task CheckRetention_CountsOnlyWhatWasDroppedSinceThePreviousCheck_AndNothingForAPartitionWithinRetention()
    {
        var full = StackFixture.Unique("retention-full");
        var small = StackFixture.Unique("retention-small");
        _kafka.Cluster.CreateTopic(full, partitions: 1, replicationFactor: 1);
        _kafka.Cluster.CreateTopic(small, partitions: 1, replicationFactor: 1);

        await ProduceAsync(full, megabytes: 7);
        await ProduceAsync(small, megabytes: 1);
        var first = await _kafka.CheckRetentionAsync(TestContext.Current.CancellationToken);
        var lowAfterFirst = LowWatermark(full);
        await ProduceAsync(full, megabytes: 2);
        var second = await _kafka.CheckRetentionAsync(TestContext.Current.CancellationToken);

        Assert.Equal([new DroppedRecords(full, 0, lowAfterFirst)], first);
        Assert.Equal([new DroppedRecords(full, 0, LowWatermark(full) - lowAfterFirst)], second);
    }

    [Fact]
    public async Task RetentionMs_DeletesWhatArrivedLongerAgo_ThenEverything_WithoutCallingItADrop()
    {
        var topic = StackFixture.Unique("retention-ms");
        var kept = StackFixture.Unique("retention-none");
        using (var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await admin.CreateTopicsAsync(
            [
                new Confluent.Kafka.Admin.TopicSpecification { Name = topic, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "60000" } },
                new Confluent.Kafka.Admin.TopicSpecification { Name = kept, NumPartitions = 1, ReplicationFactor = 1, Configs = new() { ["retention.ms"] = "60000", ["cleanup.policy"] = "compact" } },
            ]);
        }

        var ct = TestContext.Current.CancellationToken;
        await ProduceCountAsync(topic, 10);
        await ProduceCountAsync(kept, 10);
        await _kafka.CheckRetentionAsync(ct);
        _time.Advance(TimeSpan.FromSeconds(30));
        await ProduceCountAsync(topic, 5);
        await _kafka.CheckRetentionAsync(ct);
        _time.Advance(TimeSpan.FromSeconds(29));
        var withinRetention = await _kafka.CheckRetentionAsync(ct);
        var lowWithin = LowWatermark(topic);
        _time.Advance(TimeSpan.FromSeconds(2));
        var pastFirst = await _kafka.CheckRetentionAsync(ct);
        var lowPastFirst = LowWatermark(topic);
        _time.Advance(TimeSpan.FromSeconds(30));
        await _kafka.CheckRetentionAsync(ct);

        Assert.Equal(0, lowWithin);
        Assert.Equal(10, lowPastFirst);
        Assert.Equal(15, LowWatermark(topic));
        Assert.Equal(0, LowWatermark(kept)); // compacted: time retention does not apply
        Assert.Empty(withinRetention);
        Assert.Empty(pastFirst);
        Assert.DoesNotContain(_logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains(topic, StringComparison.Ordinal));
    }

    private async Task ProduceCountAsync(string topic, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        for (var i = 0; i < count; i++)
        {
            producer.Produce(new TopicPartition(topic, 0), new Message<Null, string> { Value = $"v{i}" });
        }

        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
    }

    private async Task ProduceAsync(string topic, int megabytes)
    {
        var value = new string('x', 1024);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, LingerMs = 20 }).Build();
        for (var i = 0; i < megabytes * 1024; i++)
        {
            producer.Produce(topic, new Message<Null, string> { Value = value });
            if (i % 1000 == 0)
            {
                producer.Poll(TimeSpan.Zero);
            }
        }

        await Task.Run(() => producer.Flush(TimeSpan.FromSeconds(30)), TestContext.Current.CancellationToken);
    }

    private long LowWatermark(string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).Low.Value;
    }
}
