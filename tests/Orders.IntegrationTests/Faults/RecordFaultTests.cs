using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Cli;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;
using Orders.Processor.Checkpoints;

namespace Orders.IntegrationTests.Faults;

/// <summary>Bad records, an absent registry, writes that fail, records that vanish: never stuck, never silent, still exact.</summary>
[Collection(FaultSuite.Name)]
public sealed class RecordFaultTests(ITestOutputHelper output) : IAsyncLifetime
{
    private FaultStack _stack = null!;

    public async ValueTask InitializeAsync() => _stack = await FaultStack.StartAsync();

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    [Fact]
    public async Task RegistryUnreachableForTenSeconds_RestoreAndDecodingWait_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("registry", partitions: 3);
        var group = StackFixture.Unique("registry");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "5000", "--invalid-ratio", "0.05", "--seed", "31"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--checkpoint-interval", "1"];
        using (var first = new ProcessorProcess(consume))
        {
            await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            await first.WaitForLogAsync("processed=", TimeSpan.FromSeconds(60));
            first.Kill();
        }

        // A new process has no schema cached: restoring the checkpoints and decoding both need the registry.
        await _stack.StopRegistryAsync();
        using var second = new ProcessorProcess([.. consume, "--until-idle", "5", "--json"]);
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(second.HasExited, $"the processor stopped while the registry was down:\n{second.StandardError}");
        await _stack.StartRegistryAsync();

        await second.WaitForExitAsync(TimeSpan.FromMinutes(2));
        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("Cannot restore", second.StandardError, StringComparison.Ordinal);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task ARecordOfAnotherSchemaUnderACheckpointKey_IsSkippedAtRestore_NotACrashAtEveryStart_StatsAreExact()
    {
        // An order (its own schema id) written under the group's checkpoint key: building the reader for that schema threw
        // Avro's "Schema mismatch", which no restore caught, so every processor of the group stopped at every start.
        var topic = _stack.CreateOrderTopics("foreign-checkpoint", partitions: 2);
        var group = StackFixture.Unique("foreign-checkpoint");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "400", "--seed", "37"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--until-idle", "2", "--json"];
        using (var first = new ProcessorProcess(consume))
        {
            await first.WaitForExitAsync(TimeSpan.FromMinutes(1));
            Assert.True(first.ExitCode == 0, first.StandardError);
        }

        var anOrder = Oracle.ReadAll(_stack.Kafka.BootstrapServers, topic).First().Message.Value;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = _stack.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            await producer.ProduceAsync(
                new TopicPartition(Topics.StatsFor(topic), 0),
                new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(CheckpointCodec.KeyFor(group, 0, "x", 0, 1)), Value = anOrder },
                TestContext.Current.CancellationToken);
        }

        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "400", "--seed", "38"]);
        using var second = new ProcessorProcess(consume);
        await second.WaitForExitAsync(TimeSpan.FromMinutes(1));

        Assert.True(second.ExitCode == 0, second.StandardError);
        Assert.Contains("cannot be read as a checkpoint", second.StandardError, StringComparison.Ordinal);
        var (statsExit, _, statsErrors) = await OrdersProcess.RunAsync(["stats", .. _stack.Endpoints(topic), "--group", group, "--json"], TimeSpan.FromMinutes(1));
        Assert.True(statsExit == 0, statsErrors);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task PoisonRecordsAmongValidOnes_EachDeadLetteredOnce_StatsAreExact()
    {
        var topic = _stack.CreateOrderTopics("poison", partitions: 3);
        var group = StackFixture.Unique("poison");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "2000", "--invalid-ratio", "0.02", "--seed", "32"]);
        var random = new Random(32);
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = _stack.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < 25; i++)
            {
                byte[] value = (i % 3) switch
                {
                    0 => [1, 0, 0, 0, 1, 2, 3],                 // unknown magic byte
                    1 => [0, 0x7f, 0xff, 0xff, 0xff, 2, 4, 6],  // schema id nobody registered
                    _ => [0, 0, 0, 0, 1, 0x80],                 // truncated Avro
                };
                producer.Produce(new TopicPartition(topic, random.Next(3)), new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes($"poison-{i}"), Value = value });
            }

            producer.Flush(TimeSpan.FromSeconds(30));
        }

        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "2000", "--invalid-ratio", "0.02", "--seed", "33"]);
        var summary = await OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3"]);

        Assert.Equal(25, summary.GetProperty("deadLettered").GetProperty("poison").GetInt64());
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task AStreamOfNothingButBadRecords_StillGetsCheckpointed()
    {
        // Dead letters are always in flight, and a checkpoint may not cover an unacknowledged one:
        // the partition is held briefly so that its checkpoints cannot starve.
        var topic = _stack.CreateOrderTopics("all-bad", partitions: 2);
        var group = StackFixture.Unique("all-bad");
        var consuming = OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3", "--checkpoint-interval", "1"]);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "8000", "--rate", "2000", "--invalid-ratio", "1", "--seed", "40"]);

        var summary = await consuming;
        output.WriteLine(summary.GetProperty("checkpoints").ToString());
        // Two partitions over ~4 s at one checkpoint a second each, not just the two written at the end.
        // (Sized so the local stack's ~5 MiB per partition keeps every dead letter.)
        Assert.True(summary.GetProperty("checkpoints").GetProperty("written").GetInt64() >= 6, summary.GetProperty("checkpoints").ToString());
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task RecordTooLargeForTheDeadLetterTopic_IsDeadLetteredTruncated_NothingStops()
    {
        var topic = _stack.CreateOrderTopics("oversized", partitions: 1);
        var group = StackFixture.Unique("oversized");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "100", "--seed", "34"]);
        // Its writer allowed larger messages than the processor's producer does (librdkafka's 1,000,000 bytes).
        var huge = new byte[1_500_000];
        huge[0] = 1;
        using (var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = _stack.Kafka.BootstrapServers, MessageMaxBytes = 2_000_000 }).Build())
        {
            await producer.ProduceAsync(topic, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes("huge"), Value = huge }, TestContext.Current.CancellationToken);
        }

        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "100", "--seed", "35"]);
        var summary = await OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3"]);

        Assert.Equal(200, summary.GetProperty("processed").GetInt64());
        var letter = Assert.Single(Oracle.ReadAll(_stack.Kafka.BootstrapServers, Topics.DeadLetterFor(topic)));
        Assert.Null(letter.Message.Value);
        Assert.Equal("huge", Encoding.UTF8.GetString(letter.Message.Key!));
        var truncated = Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes(DeadLetterHeaders.Truncated));
        Assert.Contains("value (1500000 bytes)", truncated, StringComparison.Ordinal);
        Assert.Equal("100", Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes(DeadLetterHeaders.OriginalOffset)));
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task DeadLetterWritesThatCanNeverSucceed_StopTheProcessorWithOneLine_ThenARestartCompletesExactly()
    {
        var topic = _stack.CreateOrderTopics("dlq-denied", partitions: 3);
        var group = StackFixture.Unique("dlq-denied");
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "300", "--invalid-ratio", "0.2", "--seed", "36"]);
        string[] consume = [.. _stack.Endpoints(topic), "--group", group, "--until-idle", "5"];

        // Every write is refused, as by an ACL that denies the dead-letter topic.
        _stack.Cluster.PushRequestErrors(KafkaApiKey.Produce, [.. Enumerable.Repeat(ErrorCode.TopicAuthorizationFailed, 2000)]);
        using (var denied = new ProcessorProcess(consume, ("Processor__DeadLetterTimeout", "00:00:03")))
        {
            await denied.WaitForExitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(1, denied.ExitCode);
            var lastLine = denied.StandardError.TrimEnd().Split('\n')[^1];
            Assert.StartsWith("orders: cannot write the dead letter of", lastLine, StringComparison.Ordinal);
            output.WriteLine(lastLine);
        }

        _stack.Cluster.ClearRequestErrors(KafkaApiKey.Produce);
        await OrdersCommand.RunJsonAsync(["consume", .. consume]);
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task TopicCreatedAfterTheProcessorStarted_IsWaitedFor_StatsAreExact()
    {
        var topic = StackFixture.Unique("late-topic");
        var group = StackFixture.Unique("late-topic");
        // Idle counts from the assignment, which follows the topics' creation at once: the idle time
        // must outlast the produce command after it, on a busy machine too.
        var consuming = OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "10"]);
        await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
        Assert.False(consuming.IsCompleted, "the processor gave up on a topic that does not exist yet");

        _stack.Cluster.CreateTopic(Topics.DeadLetterFor(topic), 3, 1);
        StackFixture.CreateStatsTopic(_stack.Kafka, topic, 3, 1);
        _stack.Cluster.CreateTopic(topic, 3, 1);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "500", "--invalid-ratio", "0.05", "--seed", "37"]);

        var summary = await consuming;
        Assert.Equal(500, summary.GetProperty("processed").GetInt64() + summary.GetProperty("deadLettered").GetProperty("total").GetInt64());
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }

    [Fact]
    public async Task RecordsDeletedByRetentionBeforeTheyWereRead_AreCountedAsLost_NeverSilently()
    {
        var topic = _stack.CreateOrderTopics("retention", partitions: 1);
        var group = StackFixture.Unique("retention");
        string[] consume = ["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3"];
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "2000", "--invalid-ratio", "0.05", "--seed", "38"]);
        await OrdersCommand.RunJsonAsync(consume);
        await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "1000", "--invalid-ratio", "0.05", "--seed", "39"]);
        var fates = Oracle.Fates(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic);

        // Retention takes offsets 2000 to 2599 before the processor comes back for them.
        _stack.Cluster.DeleteRecords(topic, 0, 2600);
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync([.. consume, "--json"], stdout, stderr);
        Assert.True(exit == 0, stderr.ToString());

        var summary = System.Text.Json.JsonDocument.Parse(stdout.ToString()).RootElement;
        Assert.Equal(600, summary.GetProperty("skippedByRetention").GetInt64());
        var kept = fates.Where(f => f.Offset is < 2000 or >= 2600).ToList();
        var stats = await Oracle.AssertExactAsync(_stack, topic, group, RecordFate.Contents(kept), lost: 600);
        Assert.Equal(600, stats.GetProperty("skippedByRetention").GetInt64());
    }

    [Fact]
    public async Task StatsTopicWithAnotherPartitionCount_IsAClearError_NotAMiscount()
    {
        var topic = StackFixture.Unique("mismatch");
        _stack.Cluster.CreateTopic(topic, 3, 1);
        _stack.Cluster.CreateTopic(Topics.DeadLetterFor(topic), 3, 1);
        _stack.Cluster.CreateTopic(Topics.StatsFor(topic), 2, 1);
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(["consume", .. _stack.Endpoints(topic), "--until-idle", "3"], stdout, stderr);

        Assert.Equal(1, exit);
        var line = stderr.ToString().TrimEnd().Split('\n')[^1];
        Assert.Equal($"orders: {Topics.StatsFor(topic)} has 2 partitions but {topic} has 3: they must match (partition p of {Topics.StatsFor(topic)} holds the checkpoints of {topic}[p]); add partitions to the smaller one", line);
    }

    [Fact]
    public async Task TenThousandProducts_CheckpointsSplitIntoChunks_RestoredWhole()
    {
        var topic = _stack.CreateOrderTopics("products", partitions: 1);
        var group = StackFixture.Unique("products");
        using (var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = _stack.RegistryUrl }))
        using (var producer = new ProducerBuilder<string, Order>(new ProducerConfig { BootstrapServers = _stack.Kafka.BootstrapServers, EnableIdempotence = true, LingerMs = 5 })
            .SetValueSerializer(new AvroSerializer<Order>(registry).AsSyncOverAsync()).Build())
        {
            for (var i = 0; i < 10_000; i++)
            {
                var order = new Order { OrderId = $"o-{i}", Product = $"catalogue-product-number-{i:D5}", Price = 1 + (i % 100), CreatedAt = DateTime.UtcNow };
                producer.Produce(topic, new Message<string, Order> { Key = order.OrderId, Value = order });
            }

            producer.Flush(TimeSpan.FromSeconds(60));
        }

        var first = await OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3"]);
        Assert.Equal(10_000, first.GetProperty("currencies").GetProperty("EUR").GetProperty("products").EnumerateObject().Count());

        var chunks = Oracle.ReadAll(_stack.Kafka.BootstrapServers, Topics.StatsFor(topic));
        var largest = chunks.Max(c => c.Message.Value!.Length);
        output.WriteLine($"{chunks.Count} checkpoint records, the largest {largest} bytes");
        Assert.True(largest <= 300 * 1024, $"a checkpoint record of {largest} bytes");
        Assert.True(chunks.Count >= 3, $"{chunks.Count} checkpoint record(s): 10,000 products should need several chunks");

        var second = await OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", group, "--until-idle", "3"]);
        Assert.Equal(1, second.GetProperty("checkpoints").GetProperty("restored").GetInt64());
        Assert.Equal(0, second.GetProperty("processed").GetInt64());
        Assert.Equal(10_000, second.GetProperty("currencies").GetProperty("EUR").GetProperty("products").EnumerateObject().Count());
        await Oracle.AssertExactAsync(_stack, topic, group, Oracle.Read(_stack.Kafka.BootstrapServers, _stack.RegistryUrl, topic));
    }
}
