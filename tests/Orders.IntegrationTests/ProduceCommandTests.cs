using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Orders.Cli;
using Orders.Contracts;
using Orders.Decoding;
using Orders.IntegrationTests.Infrastructure;
using Orders.Processor.Records;

namespace Orders.IntegrationTests;

/// <summary><c>orders produce</c> as a user runs it: its summary, its failures, Ctrl+C, and what it shows while it runs.</summary>
[Collection(StackCollection.Name)]
public sealed class ProduceCommandTests(StackFixture fixture)
{
    [Fact]
    public async Task Json_ReportsTheValidOrdersPerCurrency_AsTheRecordsOnTheTopicGiveThem()
    {
        var topic = fixture.CreateTopic("produce-valid");

        var summary = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "400", "--invalid-ratio", "0.25", "--seed", "9"]);

        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using var consumer = new ConsumerBuilder<string, byte[]>(fixture.ConsumerConfig(StackFixture.Unique("produce-valid"))).Build();
        consumer.Subscribe(topic);
        var records = KafkaTestClient.ConsumeAll(consumer, 400, TimeSpan.FromSeconds(30));
        consumer.Close();
        var decoder = new OrderDecoder(registry);
        var valid = new List<Order>();
        foreach (var record in records)
        {
            var order = await decoder.DecodeAsync(record.Message.Value);
            if (OrderValidator.Validate(order) is null)
            {
                valid.Add(order);
            }
        }

        var reported = summary.GetProperty("valid");
        Assert.Equal(400, records.Count);
        Assert.Equal((400L, 0L, 400L), (summary.GetProperty("produced").GetInt64(), summary.GetProperty("unacknowledged").GetInt64(), summary.GetProperty("sent").GetInt64()));
        Assert.Equal(400 - summary.GetProperty("invalid").GetInt64(), reported.GetProperty("count").GetInt64());
        Assert.Equal(valid.Count, reported.GetProperty("count").GetInt64());

        // Per currency, as the records give them: count, exact sums and means of unit price and order value.
        var currencies = valid.GroupBy(o => o.Currency).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(["EUR", "GBP", "USD"], currencies.Keys.Order());
        Assert.Equal(currencies.Keys.Order(), reported.GetProperty("currencies").EnumerateObject().Select(c => c.Name));
        foreach (var (currency, orders) in currencies)
        {
            var figures = reported.GetProperty("currencies").GetProperty(currency);
            var sum = orders.Sum(o => (decimal)o.Price);
            var orderValue = orders.Sum(o => (decimal)o.Price * o.Quantity);
            Assert.Equal(orders.Count, figures.GetProperty("count").GetInt64());
            Assert.Equal(sum.ToString(CultureInfo.InvariantCulture), figures.GetProperty("sum").GetString());
            Assert.Equal((double)(sum / orders.Count), figures.GetProperty("mean").GetDouble());
            Assert.Equal(orderValue.ToString(CultureInfo.InvariantCulture), figures.GetProperty("orderValueSum").GetString());
            Assert.Equal((double)(orderValue / orders.Count), figures.GetProperty("orderValueMean").GetDouble());
        }
    }

    [Fact]
    public async Task DeliveryReportFieldsSetByTheUser_DoNotEmptyTheValidOrdersFigures()
    {
        var topic = fixture.CreateTopic("produce-fields");
        using var process = OrdersProcess.Start(
            ["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "200", "--invalid-ratio", "0", "--json"],
            ("Kafka__dotnet.producer.delivery.report.fields", "status"));
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "orders produce did not end");
        process.WaitForExit();

        Assert.True(process.ExitCode == 0, await stderr);
        var summary = JsonDocument.Parse(await stdout).RootElement;
        // The publisher counts the valid orders by the key its delivery reports bring back: it keeps that field whatever is set.
        Assert.Equal(200, summary.GetProperty("produced").GetInt64());
        Assert.Equal(200, summary.GetProperty("valid").GetProperty("count").GetInt64());
    }

    [Fact]
    public async Task IncompatibleSubject_IsOneLineErrorAndExitCode1()
    {
        var topic = fixture.CreateTopic("produce-409");
        using (var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl }))
        {
            await registry.RegisterSchemaAsync($"{topic}-value", new Schema("""{"type":"record","name":"Order","fields":[{"name":"sku","type":"string"}]}""", SchemaType.Avro));
        }

        var (exit, stdout, stderr) = await RunAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "5"]);

        Assert.Equal(OrdersCli.ExitFailure, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("incompatible", line, StringComparison.Ordinal);
        Assert.Contains($"{topic}-value", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATopicThatDoesNotExist_IsNeverCreated_ItIsWaitedFor_ThenOneLineNamingIt_Exit1()
    {
        var topic = StackFixture.Unique("never-created");

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "5"], TimeSpan.FromSeconds(60), ("Producer__TopicWait", "00:00:03"));

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == OrdersCli.ExitFailure && lines.Length == 2, $"exit {exit}:\n{stderr}");
        Assert.Equal("", stdout);
        Assert.Contains($"Waiting for topic {topic} to be created", lines[0], StringComparison.Ordinal);
        Assert.StartsWith($"orders: topic {topic} does not exist (waited 3 s for it", lines[1], StringComparison.Ordinal);

        // Nothing left behind: no topic (the local stack's broker creates one for any producer that asks for it by name), no subject.
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();
        Assert.DoesNotContain(admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics, t => t.Topic == topic);
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        Assert.DoesNotContain($"{topic}-value", await registry.GetAllSubjectsAsync());
    }

    [Fact]
    public async Task ARegistryThatNeverAnswers_IsWaitedFor_ThenOneLineNamingIt_Exit1_NothingSent()
    {
        var topic = fixture.CreateTopic("no-registry", partitions: 1);
        var nobody = $"http://127.0.0.1:{OrdersProcess.FreePort()}";

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", nobody, "--topic", topic, "--count", "5"],
            TimeSpan.FromSeconds(60),
            ("Producer__RegistryWait", "00:00:03"));

        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == OrdersCli.ExitFailure, $"exit {exit}:\n{stderr}");
        Assert.Equal("", stdout);
        Assert.All(lines[..^1], l => Assert.Contains("Schema registry unavailable; retrying in", l, StringComparison.Ordinal));
        Assert.StartsWith($"orders: the Schema Registry did not register the Order schema within 3 s (subject {topic}-value): ", lines[^1], StringComparison.Ordinal);
        Assert.Empty(Faults.Oracle.ReadAll(fixture.BootstrapServers, topic));
    }

    [Fact]
    public async Task ARegistryThatAcceptsConnectionsAndNeverAnswers_IsWaitedForWithinRegistryWait_SaidOnce_ThenOneLine()
    {
        var topic = fixture.CreateTopic("silent-registry", partitions: 1);
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start(backlog: 64);
        var held = new List<System.Net.Sockets.Socket>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            // Connections are taken and never answered; closed only when the test ends.
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    held.Add(await silent.AcceptSocketAsync(stop.Token));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }, TestContext.Current.CancellationToken);
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}";

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", url, "--topic", topic, "--count", "5"],
            TimeSpan.FromSeconds(90),
            ("Producer__RegistryWait", "00:00:08"));
        await stop.CancelAsync();
        await accepting;
        held.ForEach(h => h.Dispose());

        // One attempt of the client (5 s, tried again) outlasted the wait before: it ended after 15 s or more, having said nothing.
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(exit == OrdersCli.ExitFailure, $"exit {exit}:\n{stderr}");
        Assert.Equal("", stdout);
        Assert.Single(lines, l => l.Contains("Schema registry has not answered for 5 s; waiting for it for up to 8 s in all (Producer:RegistryWait)", StringComparison.Ordinal));
        Assert.StartsWith($"orders: the Schema Registry did not register the Order schema within 8 s (subject {topic}-value): no answer in 8", lines[^1], StringComparison.Ordinal);
        Assert.Empty(Faults.Oracle.ReadAll(fixture.BootstrapServers, topic));
    }

    [Fact]
    public async Task ARegistryLimitingItsRate_IsWaitedFor_NotTakenForARefusal_AndTheOrdersGoOut()
    {
        var topic = fixture.CreateTopic("rate-limited-registry", partitions: 1);
        var url = $"http://127.0.0.1:{OrdersProcess.FreePort()}";
        using var listener = new System.Net.HttpListener();
        listener.Prefixes.Add(url + "/");
        listener.Start();
        using var forward = new HttpClient { BaseAddress = new Uri(fixture.RegistryUrl) };
        var limited = 0;
        var proxying = Task.Run(async () =>
        {
            // Every registration is answered 429 for a while (more than the client's own tries), then the real registry answers.
            while (listener.IsListening)
            {
                System.Net.HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is System.Net.HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                if (context.Request.HttpMethod == "POST" && Interlocked.Increment(ref limited) <= 8)
                {
                    context.Response.StatusCode = 429;
                    context.Response.ContentType = "application/vnd.schemaregistry.v1+json";
                    await context.Response.OutputStream.WriteAsync("""{"error_code":42901,"message":"Too many requests"}"""u8.ToArray());
                    context.Response.Close();
                    continue;
                }

                using var request = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), context.Request.RawUrl);
                if (context.Request.HasEntityBody)
                {
                    using var body = new MemoryStream();
                    await context.Request.InputStream.CopyToAsync(body);
                    request.Content = new ByteArrayContent(body.ToArray());
                    request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(context.Request.ContentType ?? "application/json");
                }

                using var answer = await forward.SendAsync(request);
                context.Response.StatusCode = (int)answer.StatusCode;
                context.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
                await context.Response.OutputStream.WriteAsync(await answer.Content.ReadAsByteArrayAsync());
                context.Response.Close();
            }
        }, TestContext.Current.CancellationToken);

        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", url, "--topic", topic, "--count", "5", "--json"], TimeSpan.FromSeconds(90));
        listener.Stop();
        await proxying;

        Assert.True(exit == 0, $"exit {exit}:\n{stderr}");
        Assert.True(limited > 8, $"{limited} registrations asked");
        Assert.Contains("Schema registry unavailable; retrying in", stderr, StringComparison.Ordinal);
        Assert.Equal(5, JsonDocument.Parse(stdout).RootElement.GetProperty("produced").GetInt64());
    }

    [Fact]
    public async Task ATopicCreatedWhileItWaits_GetsTheOrders_WithThePartitionsItWasCreatedWith()
    {
        var topic = StackFixture.Unique("created-later");
        using var process = OrdersProcess.Start(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "20", "--json"]);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var waiting = new TaskCompletionSource();
        var stderr = new List<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.Add(e.Data ?? "");
            }

            if (e.Data?.Contains($"Waiting for topic {topic}", StringComparison.Ordinal) == true)
            {
                waiting.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        // Two partitions: neither the stack's default nor what the broker gives a topic it creates itself.
        fixture.Stack.Kafka.Cluster.CreateTopic(topic, partitions: 2, replicationFactor: 2);

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "orders produce did not end after the topic was created");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {string.Join('\n', stderr)}");
        Assert.Equal(20, JsonDocument.Parse(await stdout).RootElement.GetProperty("produced").GetInt64());
        Assert.Single(stderr, l => l.Contains("Waiting for topic", StringComparison.Ordinal));
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();
        Assert.Equal(2, admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions.Count);
    }

    [Fact]
    public async Task Sigint_EndsAnEndlessRunWithItsSummary()
    {
        var topic = fixture.CreateTopic("produce-sigint");
        using var process = OrdersProcess.Start(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--rate", "200", "--json"]);
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = new List<string>();
        var acknowledged = new TaskCompletionSource();
        process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.Add(e.Data ?? "");
            }

            if (e.Data?.Contains("Schema of subject", StringComparison.Ordinal) == true)
            {
                acknowledged.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        await acknowledged.Task.WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken);

        await OrdersProcess.SignalAsync(process, "INT");

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "orders produce did not stop after SIGINT");
        var summary = JsonDocument.Parse(await stdout).RootElement;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {string.Join('\n', stderr)}");
        Assert.True(summary.GetProperty("produced").GetInt64() > 0);
        Assert.Equal(0, summary.GetProperty("unacknowledged").GetInt64());
    }

    [Fact]
    public async Task Sigterm_WhileTheRegistryHoldsTheSchemasRegistration_StopsAtOnce()
    {
        var topic = fixture.CreateTopic("produce-silent-registry");
        // A registry that takes connections and never answers; the client would wait 12 s per attempt.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var registryUrl = $"http://127.0.0.1:{((System.Net.IPEndPoint)silent.LocalEndpoint).Port}";
        using var process = OrdersProcess.Start(
            ["produce", "--bootstrap-servers", fixture.BootstrapServers, "--schema-registry", registryUrl, "--topic", topic, "--rate", "10"],
            ("SchemaRegistry__RequestTimeoutMs", "12000"));
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        // The start's check of the registry (GET /subjects) times out and leaves the run to go on;
        // the next connection is the registration's, which hangs.
        using var check = await silent.AcceptSocketAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        using var registration = await silent.AcceptSocketAsync(TestContext.Current.CancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(500), TestContext.Current.CancellationToken);
        var signalled = System.Diagnostics.Stopwatch.StartNew();

        await OrdersProcess.SignalAsync(process, "TERM");

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(15)), "orders produce did not stop within 15 s of SIGTERM");
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(10), $"stopped {signalled.Elapsed.TotalSeconds:0.0} s after SIGTERM, as if it had waited for the registry");
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
    }

    [Fact]
    public async Task Verbose_LogsEachOrderSent_AndAProgressLineWhenNotATerminal()
    {
        var topic = fixture.CreateTopic("produce-verbose");
        using var process = OrdersProcess.Start(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "30", "--rate", "5", "--verbose"]);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        var lines = (await stderr).Split('\n');
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
        Assert.Equal(30, lines.Count(l => l.Contains("Sent order ", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.Contains("acknowledged", StringComparison.Ordinal) && l.Contains("Sent ", StringComparison.Ordinal));
        Assert.StartsWith("Produced 30 orders", stdout, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = await OrdersCli.RunAsync(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }
}
