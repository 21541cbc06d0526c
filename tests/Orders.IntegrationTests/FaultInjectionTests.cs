using Confluent.Kafka;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;

namespace Orders.IntegrationTests;

/// <summary>The typed wrapper over the mock cluster's fault injection, exercised by real clients.</summary>
public sealed class FaultInjectionTests : IAsyncLifetime
{
    // A cluster of its own: injected errors are cluster-wide and would leak into other tests.
    private LocalKafka _kafka = null!;

    public ValueTask InitializeAsync()
    {
        _kafka = LocalKafka.Start(new LocalKafkaOptions { Brokers = 2, Port = 0 });
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _kafka.DisposeAsync();

    [Fact]
    public async Task PushRequestErrors_NonRetriable_FailsTheNextProduce()
    {
        var topic = CreateTopic(leader: 1);
        using var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "warm", Value = "up" }, TestContext.Current.CancellationToken);

        _kafka.Cluster.PushRequestErrors(KafkaApiKey.Produce, ErrorCode.TopicAuthorizationFailed);
        var error = await Assert.ThrowsAsync<ProduceException<string, string>>(() =>
            producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken));

        Assert.Equal(ErrorCode.TopicAuthorizationFailed, error.Error.Code);
    }

    [Fact]
    public async Task PushRequestErrors_Retriable_IdempotentProducerDeliversEachRecordOnceInOrder()
    {
        var topic = CreateTopic(leader: 1);
        using var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "warm-up" }, TestContext.Current.CancellationToken);

        // Errors a broker answers without writing the batch: see BrokerFaultTests.RequestErrors for why not RequestTimedOut
        // or NotEnoughReplicasAfterAppend on the mock.
        _kafka.Cluster.PushRequestErrors(
            KafkaApiKey.Produce,
            ErrorCode.NotEnoughReplicas, ErrorCode.KafkaStorageError, ErrorCode.NotEnoughReplicas, ErrorCode.LeaderNotAvailable, ErrorCode.NotLeaderForPartition);
        var deliveries = Enumerable.Range(0, 200)
            .Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"m{i}" }, TestContext.Current.CancellationToken))
            .ToList();
        var reports = await Task.WhenAll(deliveries);

        Assert.All(reports, r => Assert.Equal(PersistenceStatus.Persisted, r.Status));
        var values = ReadAll(topic, 201).Select(r => r.Message.Value).ToList();
        Assert.Equal(["warm-up", .. Enumerable.Range(0, 200).Select(i => $"m{i}")], values);
    }

    [Fact]
    public async Task BrokerDownThenUp_ProducerAndConsumerResumeWithoutLossOrDuplicates()
    {
        var topic = CreateTopic(leader: 2);
        using var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "before" }, TestContext.Current.CancellationToken);

        _kafka.Cluster.SetBrokerDown(2);
        var whileDown = Enumerable.Range(0, 100)
            .Select(i => producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = $"m{i}" }, TestContext.Current.CancellationToken))
            .ToList();
        // Keep the leader away long enough for the producer to notice and queue.
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);
        Assert.All(whileDown, t => Assert.False(t.IsCompleted));
        _kafka.Cluster.SetBrokerUp(2);
        await Task.WhenAll(whileDown);

        var values = ReadAll(topic, 101).Select(r => r.Message.Value).ToList();
        Assert.Equal(["before", .. Enumerable.Range(0, 100).Select(i => $"m{i}")], values);
    }

    [Fact]
    public async Task SetPartitionLeader_MovesTheLeader_AndProducingFollows()
    {
        var topic = CreateTopic(leader: 1);
        using var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "one" }, TestContext.Current.CancellationToken);

        _kafka.Cluster.SetPartitionLeader(topic, 0, 2);
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        var leader = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Single().Leader;
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "two" }, TestContext.Current.CancellationToken);

        Assert.Equal(2, leader);
        Assert.Equal(["one", "two"], ReadAll(topic, 2).Select(r => r.Message.Value));
    }

    [Fact]
    public async Task SetBrokerRoundTripTime_DelaysEveryResponse()
    {
        var topic = CreateTopic(leader: 1);
        using var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "warm-up" }, TestContext.Current.CancellationToken);

        _kafka.Cluster.SetBrokerRoundTripTime(1, TimeSpan.FromMilliseconds(400));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "slow" }, TestContext.Current.CancellationToken);
        var slow = clock.Elapsed;
        _kafka.Cluster.SetBrokerRoundTripTime(1, TimeSpan.Zero);

        // A lower bound only: the acknowledgement cannot come before the injected delay.
        Assert.True(slow >= TimeSpan.FromMilliseconds(400), $"acknowledged after {slow.TotalMilliseconds} ms");
    }

    [Fact]
    public void BrokerIds_OutsideTheCluster_AreRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => _kafka.Cluster.SetBrokerDown(3));

    [Fact]
    public async Task PartitionRangeReader_AfterThePartitionsLeaderMoved_AsksTheNewLeader_InsteadOfFailing()
    {
        // A restore reads checkpoints with this reader; at a rolling restart the leader of what it read last moves.
        var topic = CreateTopic(leader: 1);
        using (var producer = new ProducerBuilder<string, string>(ProducerConfig()).Build())
        {
            await producer.ProduceAsync(topic, new Message<string, string> { Key = "k", Value = "v" }, TestContext.Current.CancellationToken);
        }

        using var reader = new Orders.Kafka.PartitionRangeReader(
            new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = "leader-moves" }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var partition = new TopicPartition(topic, 0);
        Assert.Equal(1, reader.Watermarks(partition, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken).High.Value);

        _kafka.Cluster.SetPartitionLeader(topic, 0, 2);
        var read = new List<string?>();
        var ends = reader.Read([new TopicPartitionOffset(partition, 0)], TimeSpan.FromSeconds(10), r => read.Add(System.Text.Encoding.UTF8.GetString(r.Message.Value!)), TestContext.Current.CancellationToken);

        Assert.Equal(1, ends[partition]);
        Assert.Equal(["v"], read);
    }

    [Fact]
    public async Task PartitionRangeReader_DisposedAfterCancellingAReadOnAnotherThread_WaitsForTheReadToGiveUp_ThenClosesItsClient()
    {
        // A restore reads off the loop's thread; the processor's end cancels it and disposes the reader.
        var (reader, partition) = ReaderWithAnAskThatWaits("disposed-after-cancelling");
        using var cancel = new CancellationTokenSource();
        var read = await WaitingRead(reader, partition, cancel.Token);

        cancel.Cancel();
        reader.Dispose();

        Assert.True(read.IsCompleted);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.Throws<ObjectDisposedException>(() => reader.Watermarks(partition, TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task PartitionRangeReader_DisposedWhileAReadGoesOnOnAnotherThread_LeavesTheClientToTheRead()
    {
        // A read that does not give up within the close's wait keeps its client: closing it under the read would
        // fail the read with an error of the closed client (or worse, inside librdkafka).
        var (reader, partition) = ReaderWithAnAskThatWaits("disposed-while-reading");
        using var cancel = new CancellationTokenSource();
        var read = await WaitingRead(reader, partition, cancel.Token);

        reader.Dispose();
        // Long enough for the read to ask again (it waits 100 ms, doubling to 1 s, between asks).
        await Task.Delay(TimeSpan.FromSeconds(2), TestContext.Current.CancellationToken);

        Assert.False(read.IsCompleted, read.Exception?.ToString() ?? "the read ended");
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
    }

    /// <summary>A reader whose watermark asks are answered "leader not available" (it asks again until its timeout, or until cancelled).</summary>
    private (Orders.Kafka.PartitionRangeReader Reader, TopicPartition Partition) ReaderWithAnAskThatWaits(string group)
    {
        var topic = CreateTopic(leader: 1);
        var reader = new Orders.Kafka.PartitionRangeReader(
            new ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = group }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var partition = new TopicPartition(topic, 0);
        Assert.Equal(0, reader.Watermarks(partition, TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken).High.Value);
        _kafka.Cluster.PushRequestErrors(KafkaApiKey.ListOffsets, [.. Enumerable.Repeat(ErrorCode.LeaderNotAvailable, 1000)]);
        return (reader, partition);
    }

    private static async Task<Task<WatermarkOffsets>> WaitingRead(Orders.Kafka.PartitionRangeReader reader, TopicPartition partition, CancellationToken cancellationToken)
    {
        var read = Task.Run(() => reader.Watermarks(partition, TimeSpan.FromSeconds(60), cancellationToken), TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken);
        Assert.False(read.IsCompleted, read.Exception?.ToString() ?? "the read ended");
        return read;
    }

    private string CreateTopic(int leader)
    {
        var topic = StackFixture.Unique("faults");
        _kafka.Cluster.CreateTopic(topic, partitions: 1, replicationFactor: 2);
        _kafka.Cluster.SetPartitionLeader(topic, 0, leader);
        return topic;
    }

    private ProducerConfig ProducerConfig() => new()
    {
        BootstrapServers = _kafka.BootstrapServers,
        EnableIdempotence = true,
        LingerMs = 5,
        RetryBackoffMs = 50,
        MessageTimeoutMs = 60_000,
    };

    private List<ConsumeResult<string, string>> ReadAll(string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = StackFixture.Unique("faults"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).Build();
        consumer.Subscribe(topic);

        // Everything was acknowledged before this runs, so reaching the end of the (single)
        // partition means every record, duplicates included, has been seen.
        var results = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }

            if (result.IsPartitionEOF)
            {
                if (results.Count >= expected)
                {
                    break;
                }

                continue;
            }

            results.Add(result);
        }

        consumer.Close();
        return results;
    }
}
