using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;
using Orders.Processor.Hosting;
using Orders.SchemaRegistry;
using Orders.SchemaRegistry.Storage;

namespace Orders.IntegrationTests;

/// <summary>Faults around the processor: the registry going away, and the process being stopped mid-run.</summary>
public sealed class ResilienceTests : IAsyncLifetime
{
    // A stack of its own: these tests stop the registry, which other tests share.
    private LocalKafka _kafka = null!;
    private RegistryServer? _registry;
    private readonly SchemaStore _store = new();
    private int _registryPort;

    public async ValueTask InitializeAsync()
    {
        _kafka = LocalKafka.Start(new LocalKafkaOptions { Brokers = 1, Port = 0 });
        _registry = await RegistryServer.StartAsync(new RegistryOptions { Port = 0 }, _store);
        _registryPort = _registry.Url.Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_registry is not null)
        {
            await _registry.DisposeAsync();
        }

        await _kafka.DisposeAsync();
    }

    private string RegistryUrl => $"http://127.0.0.1:{_registryPort}";

    [Fact]
    public async Task RegistryStoppedForTenSeconds_NothingIsDeadLettered_AndEverythingIsProcessedAfter()
    {
        var topic = CreateTopics("outage");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "200"]);
        await _registry!.DisposeAsync();
        _registry = null;

        // A fresh processor has no cached schema, so it needs the registry that is now gone.
        var consuming = OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--group", StackFixture.Unique("outage"), "--until-idle", "5"]);
        await Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.False(consuming.IsCompleted, "the processor stopped while the registry was down");
        _registry = await RegistryServer.StartAsync(new RegistryOptions { Port = _registryPort }, _store, cancellationToken: TestContext.Current.CancellationToken);
        var consumed = await consuming;

        Assert.Equal(produced.GetProperty("produced").GetInt64(), consumed.GetProperty("processed").GetInt64());
        Assert.Equal(0, consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        Assert.True(consumed.GetProperty("registryWaits").GetInt64() > 0);
    }

    [Fact]
    public async Task SigtermMidRun_ThenRestart_NothingLostAndNothingDeadLetteredTwice()
    {
        var topic = CreateTopics("sigterm");
        var group = StackFixture.Unique("sigterm");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "300", "--invalid-ratio", "0.1", "--seed", "3"]);
        var invalid = produced.GetProperty("invalid").GetInt64();
        // Retries slow the run down enough to stop it in the middle.
        string[] consume = ["consume", .. Endpoints(topic), "--group", group, "--until-idle", "3", "--fail-ratio", "0.5", "--max-attempts", "10", "--retry-delay-ms", "30", "--json"];

        // Committing every 200 ms makes the first run's progress visible early.
        using var first = OrdersProcess.Start(consume, ("Kafka__auto.commit.interval.ms", "200"));
        var firstOutput = first.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var firstErrors = first.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await WaitForProgressAsync(topic, group);
        await OrdersProcess.SignalAsync(first, "TERM");

        Assert.True(first.WaitForExit(TimeSpan.FromSeconds(30)), "the processor did not stop after SIGTERM");
        Assert.True(first.ExitCode == 0, $"exit {first.ExitCode}: {await firstErrors}");
        var run1 = JsonDocument.Parse(await firstOutput).RootElement;
        var run2 = await OrdersCommand.RunJsonAsync(consume[..^1]);

        var processed = run1.GetProperty("processed").GetInt64() + run2.GetProperty("processed").GetInt64();
        var deadInvalid = run1.GetProperty("deadLettered").GetProperty("invalid").GetInt64() + run2.GetProperty("deadLettered").GetProperty("invalid").GetInt64();
        var deadExhausted = run1.GetProperty("deadLettered").GetProperty("retries-exhausted").GetInt64() + run2.GetProperty("deadLettered").GetProperty("retries-exhausted").GetInt64();
        Assert.InRange(run1.GetProperty("processed").GetInt64(), 1, 299);
        Assert.Equal(300, processed + deadInvalid + deadExhausted);
        Assert.Equal(invalid, deadInvalid);
        Assert.Equal(deadInvalid + deadExhausted, CountRecords(Topics.DeadLetterFor(topic)));
    }

    [Fact]
    public async Task DeadLetterWriteFails_OffsetStaysUntilTheCopyIsAcknowledged_NothingLostOrDoubled()
    {
        var topic = CreateTopics("dlqfail");
        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--count", "12", "--invalid-ratio", "1"]);
        Assert.Equal(12, produced.GetProperty("invalid").GetInt64());

        // From now on the only producer is the processor's dead-letter writer: its next writes fail.
        _kafka.Cluster.PushRequestErrors(
            KafkaApiKey.Produce,
            Confluent.Kafka.ErrorCode.TopicAuthorizationFailed, Confluent.Kafka.ErrorCode.TopicAuthorizationFailed, Confluent.Kafka.ErrorCode.TopicAuthorizationFailed);
        using var registry = new Confluent.SchemaRegistry.CachedSchemaRegistryClient(new Confluent.SchemaRegistry.SchemaRegistryConfig { Url = RegistryUrl });
        // The processor as the verbs host it, with these settings.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = _kafka.BootstrapServers,
            ["Processor:Topic"] = topic,
            ["Processor:GroupId"] = StackFixture.Unique("dlqfail"),
            ["Processor:UntilIdle"] = "00:00:03",
            ["Processor:RetryMaxDelay"] = "00:00:00.200",
        });
        builder.Services.AddSingleton<Confluent.SchemaRegistry.ISchemaRegistryClient>(registry);
        builder.AddOrderProcessor();
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var summary = await host.Services.GetRequiredService<ProcessorWorker>().Completion;
        await host.StopAsync(CancellationToken.None);

        // Each injected error fails a write (the idempotent producer may fail a few more while it recovers).
        Assert.True(summary.Counters.DeadLetterWriteFailures >= 1, $"{summary.Counters.DeadLetterWriteFailures} failed writes");
        Assert.Equal(0, summary.Counters.Processed);
        Assert.Equal(12, summary.Counters.DeadLetteredByReason[DeadLetterHeaders.ReasonInvalid]);
        Assert.Equal(12, CountRecords(Topics.DeadLetterFor(topic)));
    }

    private async Task WaitForProgressAsync(string topic, string group)
    {
        // Committed offsets show the first run is under way.
        using var admin = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = group }).Build();
        var partitions = Enumerable.Range(0, 3).Select(p => new Confluent.Kafka.TopicPartition(topic, p)).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var committed = admin.Committed(partitions, TimeSpan.FromSeconds(5));
            if (committed.Any(c => c.Offset.Value > 0))
            {
                return;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }

        Assert.Fail("the first run made no progress");
    }

    private long CountRecords(string topic)
    {
        using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = _kafka.BootstrapServers, GroupId = StackFixture.Unique("count") }).Build();
        var partitions = Enumerable.Range(0, 3).Select(p => new Confluent.Kafka.TopicPartition(topic, p));
        return partitions.Sum(p =>
        {
            var w = consumer.QueryWatermarkOffsets(p, TimeSpan.FromSeconds(10));
            return w.High.Value - w.Low.Value;
        });
    }

    private string CreateTopics(string prefix)
    {
        var topic = StackFixture.Unique(prefix);
        StackFixture.CreateOrderTopics(_kafka, topic, 3, 1);
        return topic;
    }

    private string[] Endpoints(string topic) => ["--bootstrap-servers", _kafka.BootstrapServers, "--schema-registry", RegistryUrl, "--topic", topic];
}
