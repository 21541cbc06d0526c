using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests;

/// <summary>The stack warns when the mock's retention (~5 MiB per partition) drops records.</summary>
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
