using System.Globalization;
using System.Text.Json;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>Clients no one here wrote, in other processes, through the local stack.</summary>
[Collection(StackCollection.Name)]
public sealed class InteropTests(StackFixture fixture)
{
    private const string OrderSchema = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"double"}]}""";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public void Kcat_ListsMetadata_WithTheAdvertisedRelayPorts()
    {
        var kcat = ExternalTool.RequireKcat();
        var topic = fixture.CreateTopic("kcat-meta", partitions: 5);

        var result = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-L", "-m", "10"], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"topic \"{topic}\" with 5 partitions", result.StandardOutput, StringComparison.Ordinal);
        foreach (var (port, index) in fixture.Stack.Kafka.Ports.Select((p, i) => (p, i)))
        {
            Assert.Contains($"broker {index + 1} at 127.0.0.1:{port}", result.StandardOutput, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Kcat_Produces_AndOurConsumerReadsEveryRecord()
    {
        var kcat = ExternalTool.RequireKcat();
        var topic = fixture.CreateTopic("kcat-produce");
        var lines = string.Join('\n', Enumerable.Range(0, 50).Select(i => $"k{i}:v{i}")) + "\n";

        var result = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-P", "-t", topic, "-K:"], ToolTimeout, stdin: lines);
        Assert.True(result.ExitCode == 0, result.ToString());

        using var consumer = new ConsumerBuilder<string, string>(fixture.ConsumerConfig(StackFixture.Unique("kcat"))).Build();
        consumer.Subscribe(topic);
        var records = KafkaTestClient.ConsumeAll(consumer, 50, TimeSpan.FromSeconds(30));
        consumer.Close();

        Assert.Equal(
            Enumerable.Range(0, 50).Select(i => ($"k{i}", $"v{i}")).Order(),
            records.Select(r => (r.Message.Key, r.Message.Value)).Order());
    }

    [Fact]
    public async Task Kcat_Consumes_WhatOurProducerWrote()
    {
        var kcat = ExternalTool.RequireKcat();
        var topic = fixture.CreateTopic("kcat-consume");
        using (var producer = new ProducerBuilder<string, string>(fixture.ProducerConfig()).Build())
        {
            for (var i = 0; i < 30; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, string> { Key = $"k{i}", Value = $"v{i}" }, TestContext.Current.CancellationToken);
            }
        }

        var result = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%k=%s\\n"], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            Enumerable.Range(0, 30).Select(i => $"k{i}=v{i}").Order(),
            result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
    }

    [Fact]
    public async Task PythonAvroProducer_RegistersAndProduces_AndConfluentDotnetReadsIt()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateTopic("py-produce");
        var schemaFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(schemaFile, OrderSchema, TestContext.Current.CancellationToken);

        var result = ExternalTool.Run(python, [Script, "produce", fixture.BootstrapServers, fixture.RegistryUrl, topic, "40", schemaFile], ToolTimeout);
        File.Delete(schemaFile);
        Assert.True(result.ExitCode == 0, result.ToString());
        var summary = JsonDocument.Parse(result.StandardOutput).RootElement;

        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using var consumer = new ConsumerBuilder<string, GenericRecord>(fixture.ConsumerConfig(StackFixture.Unique("py")))
            .SetKeyDeserializer(new AvroDeserializer<string>(registry).AsSyncOverAsync())
            .SetValueDeserializer(new AvroDeserializer<GenericRecord>(registry).AsSyncOverAsync())
            .Build();
        consumer.Subscribe(topic);
        var records = KafkaTestClient.ConsumeAll(consumer, 40, TimeSpan.FromSeconds(30));
        consumer.Close();

        Assert.Equal(40, records.Count);
        Assert.All(records, r => Assert.Equal(r.Message.Key, (string)r.Message.Value["orderId"]));
        Assert.Equal(summary.GetProperty("priceSum").GetDouble(), records.Sum(r => (double)r.Message.Value["price"]), precision: 6);
        Assert.Equal([1], await registry.GetSubjectVersionsAsync($"{topic}-value"));
    }

    [Fact]
    public async Task PythonAvroConsumer_ReadsWhatConfluentDotnetWrote()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateTopic("py-consume");
        var schema = (global::Avro.RecordSchema)global::Avro.Schema.Parse(OrderSchema);
        using (var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl }))
        using (var producer = new ProducerBuilder<string, GenericRecord>(fixture.ProducerConfig())
            .SetKeySerializer(new AvroSerializer<string>(registry))
            .SetValueSerializer(new AvroSerializer<GenericRecord>(registry))
            .Build())
        {
            for (var i = 0; i < 25; i++)
            {
                var record = new GenericRecord(schema);
                record.Add("orderId", $"net-{i}");
                record.Add("product", "toaster");
                record.Add("price", 2.0 * i);
                await producer.ProduceAsync(topic, new Message<string, GenericRecord> { Key = $"net-{i}", Value = record }, TestContext.Current.CancellationToken);
            }
        }

        var result = ExternalTool.Run(python, [Script, "consume", fixture.BootstrapServers, fixture.RegistryUrl, topic, "25", StackFixture.Unique("pygroup")], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var records = JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().ToList();
        Assert.Equal(25, records.Count);
        Assert.Equal(Enumerable.Range(0, 25).Sum(i => 2.0 * i), records.Sum(r => r.GetProperty("value").GetProperty("price").GetDouble()));
        Assert.All(records, r => Assert.Equal(r.GetProperty("key").GetString(), r.GetProperty("value").GetProperty("orderId").GetString()));
    }

    private static string Script => Path.Combine(AppContext.BaseDirectory, "Interop", "avro_interop.py");

    [Fact]
    public async Task PythonOrders_AreAllProcessedByOrdersConsume_WithTheClientsFiguresPerCurrency()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateOrderTopics("py-orders");

        var client = ProducePythonOrders(python, topic, 400);
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("py"), "--until-idle", "5"]);

        Assert.Equal(client.GetProperty("produced").GetInt64(), consumed.GetProperty("processed").GetInt64());
        Assert.Equal(0, consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        AssertClientsFigures(client, consumed);
    }

    [Fact]
    public async Task PythonOrdersInFourCurrencies_ProcessorKilledMidRun_StatsHoldTheClientsFiguresPerCurrency()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateOrderTopics("py-kill", partitions: 6);
        var group = StackFixture.Unique("py-kill");
        string[] consume = [.. OrdersCommand.Endpoints(fixture, topic), "--group", group, "--checkpoint-interval", "1"];

        using (var first = new Faults.ProcessorProcess(consume))
        {
            await first.WaitForLogAsync("Restored", TimeSpan.FromSeconds(60));
            // The client spreads its orders over about 8 s; the processor dies 3 s in, mid-stream.
            var producing = Task.Run(() => ProducePythonOrders(python, topic, 20_000, seconds: 8), TestContext.Current.CancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(3), TestContext.Current.CancellationToken);
            Assert.False(producing.IsCompleted, "the client had finished before the kill: not mid-run");
            first.Kill();
            var client = await producing;

            using var second = new Faults.ProcessorProcess([.. consume, "--until-idle", "5"]);
            await second.WaitForExitAsync(TimeSpan.FromMinutes(2));
            Assert.True(second.ExitCode == 0, second.StandardError);

            var stats = await OrdersCommand.RunJsonAsync(["stats", .. OrdersCommand.Endpoints(fixture, topic), "--group", group]);
            Assert.Equal(20_000, stats.GetProperty("count").GetInt64());
            Assert.Equal(0, stats.GetProperty("deadLettered").GetProperty("total").GetInt64());
            Assert.Equal(4, client.GetProperty("currencies").EnumerateObject().Count());
            AssertClientsFigures(client, stats);
        }
    }

    private JsonElement ProducePythonOrders(string python, string topic, int count, int seconds = 0)
    {
        var orderAvsc = Path.Combine(AppContext.BaseDirectory, "order.avsc");
        string[] args = [Script, "produce-orders", fixture.BootstrapServers, fixture.RegistryUrl, topic, count.ToString(CultureInfo.InvariantCulture), orderAvsc, seconds.ToString(CultureInfo.InvariantCulture)];
        var result = ExternalTool.Run(python, args, TimeSpan.FromMinutes(2));
        Assert.True(result.ExitCode == 0, result.ToString());
        return JsonDocument.Parse(result.StandardOutput).RootElement;
    }

    /// <summary>Per currency: the exact count and sums the client computed, and its means to 1e-9; no other currency.</summary>
    private static void AssertClientsFigures(JsonElement client, JsonElement aggregates)
    {
        var expected = client.GetProperty("currencies").EnumerateObject().ToList();
        var counted = aggregates.GetProperty("currencies");
        Assert.Equal(expected.Select(c => c.Name).Order(), counted.EnumerateObject().Select(c => c.Name).Order());
        foreach (var currency in expected)
        {
            var ours = counted.GetProperty(currency.Name);
            Assert.Equal(currency.Value.GetProperty("count").GetInt64(), ours.GetProperty("count").GetInt64());
            Assert.Equal(decimal.Parse(currency.Value.GetProperty("priceSum").GetString()!, CultureInfo.InvariantCulture), decimal.Parse(ours.GetProperty("price").GetProperty("sum").GetString()!, CultureInfo.InvariantCulture));
            Assert.Equal(decimal.Parse(currency.Value.GetProperty("orderValueSum").GetString()!, CultureInfo.InvariantCulture), decimal.Parse(ours.GetProperty("orderValue").GetProperty("sum").GetString()!, CultureInfo.InvariantCulture));
            Assert.Equal(currency.Value.GetProperty("priceMean").GetDouble(), ours.GetProperty("price").GetProperty("mean").GetDouble(), 1e-9);
            Assert.Equal(currency.Value.GetProperty("orderValueMean").GetDouble(), ours.GetProperty("orderValue").GetProperty("mean").GetDouble(), 1e-9);
        }
    }

    public static TheoryData<string, string> SeedEraSchemas() => new()
    {
        { "its own namespace", """{"type":"record","name":"Order","namespace":"com.example.shop","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""" },
        { "no namespace", """{"type":"record","name":"Order","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""" },
    };

    [Theory]
    [MemberData(nameof(SeedEraSchemas))]
    public async Task PythonSeedEraOrders_AreCountedAsEurWithQuantityOne_WithTheClientsMean(string description, string schema)
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateOrderTopics("py-seed");
        var schemaFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(schemaFile, schema, TestContext.Current.CancellationToken);

        var result = ExternalTool.Run(python, [Script, "produce", fixture.BootstrapServers, fixture.RegistryUrl, topic, "90", schemaFile], ToolTimeout);
        File.Delete(schemaFile);
        Assert.True(result.ExitCode == 0, $"{description}: {result}");
        var client = JsonDocument.Parse(result.StandardOutput).RootElement;
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("py-seed"), "--until-idle", "5"]);

        Assert.Equal(90, client.GetProperty("produced").GetInt64());
        Assert.Equal(90, consumed.GetProperty("processed").GetInt64());
        Assert.Equal(0, consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        // No currency and no quantity in the writer's schema: the reader's defaults, EUR and 1.
        var eur = Assert.Single(consumed.GetProperty("currencies").EnumerateObject());
        Assert.Equal("EUR", eur.Name);
        Assert.Equal(90, eur.Value.GetProperty("count").GetInt64());
        Assert.Equal(client.GetProperty("mean").GetDouble(), eur.Value.GetProperty("price").GetProperty("mean").GetDouble(), precision: 9);
        Assert.Equal(eur.Value.GetProperty("price").GetProperty("sum").GetString(), eur.Value.GetProperty("orderValue").GetProperty("sum").GetString());
    }

    [Fact]
    public async Task OrdersProduce_IsReadByThePythonClient()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var topic = fixture.CreateTopic("py-reads");

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "60", "--seed", "5"]);
        var result = ExternalTool.Run(python, [Script, "consume-string-keys", fixture.BootstrapServers, fixture.RegistryUrl, topic, "60", StackFixture.Unique("pyread")], ToolTimeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        var records = JsonDocument.Parse(result.StandardOutput).RootElement.EnumerateArray().ToList();
        Assert.Equal(produced.GetProperty("produced").GetInt64(), records.Count);
        Assert.All(records, r =>
        {
            var value = r.GetProperty("value");
            Assert.Equal(r.GetProperty("key").GetString(), value.GetProperty("orderId").GetString());
            Assert.True(Guid.TryParse(value.GetProperty("orderId").GetString(), out _));
            Assert.InRange(value.GetProperty("quantity").GetInt32(), 1, 5);
            Assert.True(value.GetProperty("price").GetDouble() > 0);
            Assert.Contains(value.GetProperty("product").GetString(), Orders.Producer.OrderGenerator.Catalogue.Select(c => c.Name));
        });
    }
}
