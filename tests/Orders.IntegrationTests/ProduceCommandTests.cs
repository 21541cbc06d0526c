using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Orders.Cli;
using Orders.Contracts;
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
    public async Task NoBrokerReachable_IsOneLineErrorAndExitCode1()
    {
        var nobody = $"127.0.0.1:{OrdersProcess.FreePort()}";

        var (exit, stdout, stderr) = await RunAsync(["produce", "--bootstrap-servers", nobody, "--schema-registry", fixture.RegistryUrl, "--topic", StackFixture.Unique("nobroker"), "--count", "5"]);

        Assert.Equal(OrdersCli.ExitFailure, exit);
        Assert.Equal("", stdout);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains($"no Kafka broker reachable at {nobody}", line, StringComparison.Ordinal);
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

        using (var kill = Process.Start("kill", ["-INT", process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        }

        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(30)), "orders produce did not stop after SIGINT");
        var summary = JsonDocument.Parse(await stdout).RootElement;
        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {string.Join('\n', stderr)}");
        Assert.True(summary.GetProperty("produced").GetInt64() > 0);
        Assert.Equal(0, summary.GetProperty("unacknowledged").GetInt64());
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
