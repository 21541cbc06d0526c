using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orders.Cli.Commands;
using Orders.Cli.Settings;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack.Kafka;
using Orders.Producer.Hosting;
using Orders.SchemaRegistry;
using Orders.SchemaRegistry.Storage;

namespace Orders.IntegrationTests;

/// <summary>The processor's health endpoints while the Schema Registry goes away and comes back.</summary>
public sealed class HealthTests : IAsyncLifetime
{
    // A stack of its own: this test stops the registry, which other tests share.
    private readonly SchemaStore _store = new();
    private LocalKafka _kafka = null!;
    private RegistryServer? _registry;
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

    [Fact]
    public async Task Ready_TurnsDegradedOnlyWhilePartitionsWaitForTheRegistry_NotWhileTheSchemasInUseAreKnown()
    {
        var topic = StackFixture.Unique("health");
        StackFixture.CreateOrderTopics(_kafka, topic, 3, 1);
        await ProduceAsync(topic, 30);
        await using var run = await ProcessorRun.StartAsync(_kafka.BootstrapServers, $"http://127.0.0.1:{_registryPort}", topic);
        var ready = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal(("Healthy", "Healthy"), (Check(ready, "partitions"), Check(ready, "schema-registry")));

        // The registry away, every schema in use known: the processor reads on, so it stays ready (it said 503 before).
        await _registry!.DisposeAsync();
        _registry = null;
        for (var i = 0; i < 10; i++)
        {
            var still = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
            Assert.Equal("no partition waits for the Schema Registry", Description(still, "schema-registry"));
            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }

        // A record of a schema it does not know: its partition waits for the registry.
        using (var producer = new Confluent.Kafka.ProducerBuilder<byte[]?, byte[]?>(new Confluent.Kafka.ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(
                new Confluent.Kafka.TopicPartition(topic, 1), new Confluent.Kafka.Message<byte[]?, byte[]?> { Value = [0, 0, 0, 0, 99, 2, 4] }, TestContext.Current.CancellationToken);
        }

        var degraded = await WaitForAsync(run, "/health/ready", HttpStatusCode.ServiceUnavailable);
        Assert.Equal(("Degraded", "Degraded", "Healthy"), (degraded.GetProperty("status").GetString(), Check(degraded, "schema-registry"), Check(degraded, "partitions")));
        Assert.StartsWith("1 partition(s) wait for the Schema Registry (1), losing nothing: it is unreachable: ", Description(degraded, "schema-registry"), StringComparison.Ordinal);
        // Alive all the while: restarting the processor would not bring the registry back.
        var live = await WaitForAsync(run, "/health/live", HttpStatusCode.OK);
        Assert.Equal("Healthy", live.GetProperty("status").GetString());

        // Back: schema 99 is unknown to it, so the record is dead-lettered as poison, and the partition reads on.
        _registry = await RegistryServer.StartAsync(new RegistryOptions { Port = _registryPort }, _store, cancellationToken: TestContext.Current.CancellationToken);
        var again = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal("Healthy", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Ready_TurnsDegradedWhileNoBrokerIsReachable_AndReadyAgainAfter()
    {
        await using var run = await StartOnNewTopicAsync("health-broker");
        var ready = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal("Healthy", Check(ready, "kafka"));

        _kafka.Cluster.SetBrokerDown(1);
        var degraded = await WaitForAsync(run, "/health/ready", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Degraded", Check(degraded, "kafka"));
        Assert.StartsWith("no Kafka broker connected (or answering) for ", degraded.GetProperty("checks").GetProperty("kafka").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("Healthy", Check(degraded, "schema-registry"));
        var live = await WaitForAsync(run, "/health/live", HttpStatusCode.OK);
        Assert.Equal("Healthy", live.GetProperty("status").GetString());

        _kafka.Cluster.SetBrokerUp(1);
        var again = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal("Healthy", Check(again, "kafka"));
    }

    [Fact]
    public async Task Ready_TurnsDegradedWhileTheBrokerHangsWithItsConnectionOpen_AndReadyAgainAfter()
    {
        // Answers held back for a minute, the connection kept: librdkafka calls the broker UP until socket.timeout.ms (60 s),
        // and readiness said "1 Kafka broker(s) connected" for ~70 s (seen with the stack stopped by SIGSTOP).
        await using var run = await StartOnNewTopicAsync("health-hung");
        var ready = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal("Healthy", Check(ready, "kafka"));

        _kafka.Cluster.SetBrokerRoundTripTime(1, TimeSpan.FromSeconds(50));
        var degraded = await WaitForAsync(run, "/health/ready", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Degraded", Check(degraded, "kafka"));
        Assert.StartsWith("no Kafka broker connected (or answering) for ", Description(degraded, "kafka"), StringComparison.Ordinal);

        _kafka.Cluster.SetBrokerRoundTripTime(1, TimeSpan.Zero);
        var again = await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
        Assert.Equal("Healthy", Check(again, "kafka"));
    }

    [Fact]
    public async Task Ready_AnswersStoppingWhileTheProcessorClosesOnAStopFromOutside_TheEndpointClosesAfterIt()
    {
        await using var run = await StartWithCallsInFlightAsync("health-stop");
        var stop = run.SignalAsync();
        var stopping = await WaitForAsync(run, "/health/ready", HttpStatusCode.ServiceUnavailable);
        Assert.Equal("Unhealthy", Check(stopping, "partitions"));
        Assert.Equal("the processor is stopping", stopping.GetProperty("checks").GetProperty("partitions").GetProperty("description").GetString());
        using (var metrics = await run.Http.GetAsync("/metrics", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        }

        Assert.False(stop.IsCompleted, "the host stopped before its endpoint said so");
        await stop.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        Assert.True(run.Completion.IsCompletedSuccessfully, $"the processor's run: {run.Completion.Status}");
        // Stopped, the host serves nothing more.
        await Assert.ThrowsAsync<HttpRequestException>(() => run.Http.GetAsync("/health/live", TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task EventStream_GoesOnWhileTheProcessorCloses_SendsItsStoppingState_AndEndsBeforeTheHostStops()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var run = await StartWithCallsInFlightAsync("health-events-stop");
        using var events = await run.Http.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, ct);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(ct));
        var statuses = new List<string>();
        var stop = Task.CompletedTask;
        while (await reader.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(60), ct) is { } line)
        {
            if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                statuses.Add(JsonDocument.Parse(line["data: ".Length..]).RootElement.GetProperty("status").GetString()!);
                if (statuses.Count == 1)
                {
                    // Stopped as a signal stops it, once the stream is open and has said where the processor is.
                    stop = run.SignalAsync();
                }
            }
        }

        Assert.Equal("processing", statuses[0]);
        Assert.Equal("stopping", statuses[^1]);
        await stop.WaitAsync(TimeSpan.FromSeconds(60), ct);
        Assert.True(run.Completion.IsCompletedSuccessfully, $"the processor's run: {run.Completion.Status}");
    }

    [Fact]
    public async Task Endpoints_AnswerHeadAsGetWithoutABody_EvenTheEventStream_AndRefuseMethodsThatWouldChangeSomething()
    {
        await using var run = await ProcessorRun.StartAsync(_kafka.BootstrapServers, $"http://127.0.0.1:{_registryPort}", StackFixture.Unique("health-methods"));
        var ct = TestContext.Current.CancellationToken;

        foreach (var path in new[] { "/", "/metrics", "/health/live", "/health/ready", "/api/state" })
        {
            using var getRequest = new HttpRequestMessage(HttpMethod.Get, path);
            using var headRequest = new HttpRequestMessage(HttpMethod.Head, path);
            using var deleteRequest = new HttpRequestMessage(HttpMethod.Delete, path);
            using var postRequest = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent("{}") };
            using var get = await run.Http.SendAsync(getRequest, ct);
            using var head = await run.Http.SendAsync(headRequest, ct);
            using var delete = await run.Http.SendAsync(deleteRequest, ct);
            using var post = await run.Http.SendAsync(postRequest, ct);

            Assert.Equal((get.StatusCode, get.Content.Headers.ContentType?.MediaType), (head.StatusCode, head.Content.Headers.ContentType?.MediaType));
            Assert.Empty(await head.Content.ReadAsByteArrayAsync(ct));
            Assert.Equal((HttpStatusCode.MethodNotAllowed, HttpStatusCode.MethodNotAllowed), (delete.StatusCode, post.StatusCode));
            Assert.Equal(["GET", "HEAD"], delete.Content.Headers.Allow.Order());
        }

        // The event stream answers HEAD with its headers and ends; as GET it would never end, and the connection would hang.
        using (var headEvents = new HttpRequestMessage(HttpMethod.Head, "/events"))
        using (var events = await run.Http.SendAsync(headEvents, ct).WaitAsync(TimeSpan.FromSeconds(10), ct))
        {
            Assert.Equal((HttpStatusCode.OK, "text/event-stream"), (events.StatusCode, events.Content.Headers.ContentType?.MediaType));
            Assert.Empty(await events.Content.ReadAsByteArrayAsync(ct).WaitAsync(TimeSpan.FromSeconds(10), ct));
        }

        // The next request on the connection the HEAD used is answered (a stream still running would hold it).
        using (var after = await run.Http.GetAsync("/health/live", ct).WaitAsync(TimeSpan.FromSeconds(10), ct))
        {
            Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        }

        using (var state = await run.Http.GetAsync("/api/state", ct))
        using (var page = await run.Http.GetAsync("/", ct))
        {
            Assert.Equal("nosniff", Assert.Single(state.Headers.GetValues("X-Content-Type-Options")));
            Assert.Contains("frame-ancestors 'none'", Assert.Single(page.Headers.GetValues("Content-Security-Policy")), StringComparison.Ordinal);
        }

        // Bound to loopback: a request naming another host (a page that rebound its name to 127.0.0.1) gets nothing.
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/state") { Headers = { Host = "attacker.example" } };
        using var localhost = new HttpRequestMessage(HttpMethod.Get, "/api/state") { Headers = { Host = $"localhost:{run.Address.Port}" } };
        using var refused = await run.Http.SendAsync(rebound, ct);
        using var served = await run.Http.SendAsync(localhost, ct);
        Assert.Equal((HttpStatusCode.MisdirectedRequest, HttpStatusCode.OK), (refused.StatusCode, served.StatusCode));
        Assert.Equal("text/plain", refused.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task OrdersHealth_Exit0ForAHealthyEndpoint_Exit1ForAnUnhealthyOne_OrForNone()
    {
        // A topic that does not exist: the processor waits for it, alive but not ready.
        await using var run = await ProcessorRun.StartAsync(_kafka.BootstrapServers, $"http://127.0.0.1:{_registryPort}", StackFixture.Unique("health-absent"));
        var timeout = TimeSpan.FromSeconds(30);

        // A proxy in the environment (as a container inherits it) that would answer nothing useful: not used.
        var deadProxy = $"http://127.0.0.1:{OrdersProcess.FreePort()}";
        var live = await OrdersProcess.RunAsync(["health", "--url", new Uri(run.Address, "/health/live").ToString()], timeout, ("HTTP_PROXY", deadProxy), ("http_proxy", deadProxy));
        var ready = await OrdersProcess.RunAsync(["health", "--url", new Uri(run.Address, "/health/ready").ToString()], timeout);
        var none = await OrdersProcess.RunAsync(["health", "--url", $"http://127.0.0.1:{OrdersProcess.FreePort()}/health/live"], timeout);

        Assert.True(live.Exit == 0 && live.Stdout.Contains("200 OK", StringComparison.Ordinal), $"live: exit {live.Exit}: {live.Stdout}{live.Stderr}");
        Assert.True(ready.Exit == 1 && ready.Stderr.Contains("503 Service Unavailable: Unhealthy (partitions: no partition assigned yet)", StringComparison.Ordinal), $"ready: exit {ready.Exit}: {ready.Stdout}{ready.Stderr}");
        Assert.StartsWith("orders: ", Assert.Single(ready.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        Assert.True(none.Exit == 1 && none.Stderr.Contains("Connection refused", StringComparison.Ordinal), $"nothing listening: exit {none.Exit}: {none.Stdout}{none.Stderr}");
        Assert.StartsWith("orders: ", Assert.Single(none.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
    }

    /// <summary>Valid orders from the producer as <c>orders produce</c> builds it.</summary>
    private async Task ProduceAsync(string topic, int count)
    {
        var settings = CliSettings.Load(new SettingsRequest(null, new Dictionary<string, string?>
        {
            ["Kafka:BootstrapServers"] = _kafka.BootstrapServers,
            ["SchemaRegistry:Url"] = $"http://127.0.0.1:{_registryPort}",
            ["Producer:Topic"] = topic,
            ["Producer:Count"] = count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Producer:InvalidRatio"] = "0",
        }, Json: true));
        using var loggers = Microsoft.Extensions.Logging.LoggerFactory.Create(_ => { });
        using var registry = settings.SchemaRegistryClient();
        using var host = ProduceCommand.ProducerHost(settings, loggers, registry);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var summary = await host.Services.GetRequiredService<ProducerWorker>().Completion;
        await host.StopAsync(TestContext.Current.CancellationToken);
        Assert.Equal(count, summary.Produced);
    }

    /// <summary>A processor on a new three-partition topic of this test's own stack.</summary>
    private Task<ProcessorRun> StartOnNewTopicAsync(string prefix)
    {
        var topic = StackFixture.Unique(prefix);
        StackFixture.CreateOrderTopics(_kafka, topic, 3, 1);
        return ProcessorRun.StartAsync(_kafka.BootstrapServers, $"http://127.0.0.1:{_registryPort}", topic);
    }

    private static string? Description(JsonElement health, string name) =>
        health.GetProperty("checks").GetProperty(name).GetProperty("description").GetString();

    /// <summary>
    /// A processor, ready, with handler calls in flight: a downstream that takes 4 s, so that a close, which
    /// lets the calls in flight end (up to half the revoke timeout, 5 s), lasts long enough to be watched.
    /// </summary>
    private async Task<ProcessorRun> StartWithCallsInFlightAsync(string prefix)
    {
        var topic = StackFixture.Unique(prefix);
        StackFixture.CreateOrderTopics(_kafka, topic, 3, 1);
        await ProduceAsync(topic, 30);
        var run = await ProcessorRun.StartAsync(_kafka.BootstrapServers, $"http://127.0.0.1:{_registryPort}", topic, new Dictionary<string, string?>
        {
            ["Processor:Handler:Latency"] = "4s",
        });
        try
        {
            await WaitForAsync(run, "/health/ready", HttpStatusCode.OK);
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (run.Processor.View.Load.InFlight == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, TestContext.Current.CancellationToken);
            }

            Assert.True(run.Processor.View.Load.InFlight > 0, "no handler call in flight");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    private static string? Check(JsonElement health, string name) =>
        health.GetProperty("checks").GetProperty(name).GetProperty("status").GetString();

    /// <summary>Asks until the endpoint answers with <paramref name="status"/> (a minute at most); returns that answer.</summary>
    private static async Task<JsonElement> WaitForAsync(ProcessorRun run, string path, HttpStatusCode status)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await run.Http.GetAsync(path, TestContext.Current.CancellationToken);
            last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)}";
            if (response.StatusCode == status)
            {
                return JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.Clone();
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);
        }

        Assert.Fail($"{path} never answered {(int)status}; last: {last}");
        return default;
    }
}
