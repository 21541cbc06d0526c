using System.Globalization;
using System.Text;
using System.Text.Json;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary><c>orders produce</c> and <c>orders consume</c> end to end on the local stack.</summary>
[Collection(StackCollection.Name)]
public sealed class PipelineTests(StackFixture fixture)
{
    [Fact]
    public async Task ProduceThenConsume_EveryOrderIsProcessedOrDeadLettered_AndTheAverageIsExact()
    {
        var topic = CreateTopics("e2e");
        var group = StackFixture.Unique("e2e");

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "400", "--invalid-ratio", "0.1", "--seed", "7"]);
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", group, "--until-idle", "3",
            "--fail-ratio", "0.4", "--max-attempts", "3", "--retry-delay-ms", "10", "--seed", "11"]);

        var total = produced.GetProperty("produced").GetInt64();
        var invalid = produced.GetProperty("invalid").GetInt64();
        var processed = consumed.GetProperty("processed").GetInt64();
        var dead = consumed.GetProperty("deadLettered");
        var exhausted = dead.GetProperty("retries-exhausted").GetInt64();
        Assert.Equal(400, total);
        Assert.True(invalid > 0 && exhausted > 0, $"the run should exercise both paths: invalid {invalid}, exhausted {exhausted}");
        Assert.True(consumed.GetProperty("retried").GetInt64() > exhausted);
        Assert.Equal(total, processed + dead.GetProperty("total").GetInt64());
        Assert.Equal(invalid, dead.GetProperty("invalid").GetInt64());
        Assert.Equal(0, dead.GetProperty("poison").GetInt64());
        Assert.Equal(invalid + exhausted, dead.GetProperty("total").GetInt64());

        // Independently: every order on the topic, minus those in the DLQ, is what was processed.
        var orders = ReadOrders(topic, (int)total);
        var deadLetters = ReadRaw(Topics.DeadLetterFor(topic), (int)(invalid + exhausted));
        var deadIds = deadLetters.Select(d => Encoding.UTF8.GetString(d.Message.Key!)).ToHashSet();
        var processedOrders = orders.Where(o => !deadIds.Contains(o.Message.Key)).Select(o => o.Message.Value).ToList();
        Assert.Equal(processed, processedOrders.Count);
        var currencies = consumed.GetProperty("currencies");
        Assert.Equal(processedOrders.Select(o => o.Currency).Distinct().Order(), currencies.EnumerateObject().Select(c => c.Name).Order());
        foreach (var group2 in processedOrders.GroupBy(o => o.Currency))
        {
            var figures = currencies.GetProperty(group2.Key);
            Assert.Equal(group2.Count(), figures.GetProperty("count").GetInt64());
            Assert.Equal(group2.Average(o => o.Price), figures.GetProperty("price").GetProperty("mean").GetDouble(), precision: 9);
            Assert.Equal(group2.Max(o => o.Price), figures.GetProperty("price").GetProperty("max").GetDouble());
            Assert.Equal(group2.Average(o => o.Price * o.Quantity), figures.GetProperty("orderValue").GetProperty("mean").GetDouble(), precision: 9);
        }

        // Each dead letter is the original record, byte for byte, with its diagnostics.
        var originals = ReadRaw(topic, (int)total).ToDictionary(r => (r.Partition.Value, r.Offset.Value));
        foreach (var letter in deadLetters)
        {
            string Header(string key) => Encoding.UTF8.GetString(letter.Message.Headers.GetLastBytes(key));
            var source = originals[(int.Parse(Header(DeadLetterHeaders.OriginalPartition), CultureInfo.InvariantCulture), long.Parse(Header(DeadLetterHeaders.OriginalOffset), CultureInfo.InvariantCulture))];
            Assert.Equal(source.Message.Key, letter.Message.Key);
            Assert.Equal(source.Message.Value, letter.Message.Value);
            Assert.Equal(topic, Header(DeadLetterHeaders.OriginalTopic));
            Assert.Equal(source.Message.Timestamp.UnixTimestampMs.ToString(CultureInfo.InvariantCulture), Header(DeadLetterHeaders.OriginalTimestamp));
            Assert.Equal(group, Header(DeadLetterHeaders.ConsumerGroup));
            var reason = Header(DeadLetterHeaders.Reason);
            Assert.Contains(reason, new[] { DeadLetterHeaders.ReasonInvalid, DeadLetterHeaders.ReasonRetriesExhausted });
            Assert.Equal(reason == DeadLetterHeaders.ReasonInvalid ? "1" : "3", Header(DeadLetterHeaders.Attempts));
            Assert.Equal(reason == DeadLetterHeaders.ReasonInvalid ? "Orders.Processor.InvalidOrderException" : "Orders.Processor.SimulatedTransientException", Header(DeadLetterHeaders.ErrorType));
            Assert.False(string.IsNullOrEmpty(Header(DeadLetterHeaders.ErrorMessage)));
            Assert.InRange(Header(DeadLetterHeaders.ErrorStackTrace).Length, 1, DeadLetterHeaders.MaxStackTraceLength);
            Assert.True(DateTimeOffset.TryParseExact(Header(DeadLetterHeaders.FailedAt), "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _));
        }
    }

    [Fact]
    public async Task WithFetchingAheadOff_TheLoopPollsItself_AndCountsTheSameFigures()
    {
        // Every other test runs the default (the consumer polled on a thread of its own): this one
        // keeps the loop's own polling honest, against the default on the same orders.
        var topic = CreateTopics("ahead");
        await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "2000", "--invalid-ratio", "0.05", "--seed", "5"]);

        var ahead = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("ahead"), "--until-idle", "3", "--no-http"]);
        var (exit, stdout, stderr) = await OrdersProcess.RunAsync(
            ["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("loop"), "--until-idle", "3", "--no-http", "--json"],
            TimeSpan.FromMinutes(2),
            ("Processor__FetchAhead", "0"));

        Assert.True(exit == 0, stderr);
        var loop = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2000, ahead.GetProperty("processed").GetInt64() + ahead.GetProperty("deadLettered").GetProperty("total").GetInt64());
        Assert.True(ahead.GetProperty("deadLettered").GetProperty("invalid").GetInt64() > 0);
        Assert.Equal(ahead.GetProperty("processed").GetInt64(), loop.GetProperty("processed").GetInt64());
        Assert.Equal(ahead.GetProperty("deadLettered").GetRawText(), loop.GetProperty("deadLettered").GetRawText());
        Assert.Equal(ahead.GetProperty("currencies").GetRawText(), loop.GetProperty("currencies").GetRawText());
    }

    [Fact]
    public async Task PoisonBytes_GoToTheDeadLetterTopicUnchanged_AndNothingElseStops()
    {
        var topic = CreateTopics("poison");
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        var schemaId = await registry.RegisterSchemaAsync($"{topic}-value", new Confluent.SchemaRegistry.Schema(OrderSchemas.Current, SchemaType.Avro));
        var idBytes = new[] { (byte)(schemaId >> 24), (byte)(schemaId >> 16), (byte)(schemaId >> 8), (byte)schemaId };
        byte[][] poison =
        [
            [0x01, 0x00, 0x00, 0x00, 0x01, 0x02],                  // bad magic byte
            [0x00, 0x00],                                          // shorter than the header
            [0x00, 0x7f, 0xff, 0xff, 0xf0, 0x02, 0x41],            // unknown schema id
            [0x00, .. idBytes, 0xff, 0xff, 0xff, 0xff, 0xff],      // known id, undecodable Avro
            Encoding.UTF8.GetBytes("{\"orderId\":\"json, not avro\"}"),
        ];
        using (var producer = new ProducerBuilder<string, byte[]>(fixture.ProducerConfig()).Build())
        {
            for (var i = 0; i < poison.Length; i++)
            {
                await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = $"poison-{i}", Value = poison[i] }, TestContext.Current.CancellationToken);
            }
        }

        await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "20"]);
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("poison"), "--until-idle", "3"]);

        Assert.Equal(20, consumed.GetProperty("processed").GetInt64());
        Assert.Equal(poison.Length, consumed.GetProperty("deadLettered").GetProperty("poison").GetInt64());
        var letters = ReadRaw(Topics.DeadLetterFor(topic), poison.Length);
        Assert.Equal(
            poison.Select((p, i) => ($"poison-{i}", Convert.ToHexString(p))).Order(),
            letters.Select(l => (Encoding.UTF8.GetString(l.Message.Key!), Convert.ToHexString(l.Message.Value!))).Order());
        Assert.All(letters, l => Assert.Equal("poison", Encoding.UTF8.GetString(l.Message.Headers.GetLastBytes(DeadLetterHeaders.Reason))));
    }

    [Fact]
    public async Task PoisonWrittenByKcat_GoesToTheDeadLetterTopicUnchanged()
    {
        var kcat = ExternalTool.RequireKcat();
        var topic = CreateTopics("kcat-poison");

        var result = ExternalTool.Run(kcat, ["-b", fixture.BootstrapServers, "-P", "-t", topic, "-K:"], TimeSpan.FromSeconds(30), stdin: "k1:plain text\nk2:{\"price\":1}\n");
        Assert.True(result.ExitCode == 0, result.ToString());
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("kcat"), "--until-idle", "3"]);

        Assert.Equal(2, consumed.GetProperty("deadLettered").GetProperty("poison").GetInt64());
        var letters = ReadRaw(Topics.DeadLetterFor(topic), 2).ToDictionary(l => Encoding.UTF8.GetString(l.Message.Key!), l => Encoding.UTF8.GetString(l.Message.Value!));
        Assert.Equal("plain text", letters["k1"]);
        Assert.Equal("{\"price\":1}", letters["k2"]);
    }

    [Fact]
    public async Task EarliestSchemaOrder_IsProcessed_WithItsPriceReadAsDouble()
    {
        var topic = CreateTopics("earliest");
        var earliest = (global::Avro.RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Earliest);
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using (var producer = new ProducerBuilder<string, GenericRecord>(fixture.ProducerConfig())
            .SetValueSerializer(new AvroSerializer<GenericRecord>(registry))
            .Build())
        {
            foreach (var (id, price) in new[] { ("old-1", 12.25f), ("old-2", 7.75f) })
            {
                var record = new GenericRecord(earliest);
                record.Add("orderId", id);
                record.Add("product", "teapot");
                record.Add("price", price);
                await producer.ProduceAsync(topic, new Message<string, GenericRecord> { Key = id, Value = record }, TestContext.Current.CancellationToken);
            }
        }

        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("earliest"), "--until-idle", "3"]);

        Assert.Equal(2, consumed.GetProperty("processed").GetInt64());
        Assert.Equal(0, consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        // The earliest schema has no currency nor quantity: the defaults of order.avsc, EUR and 1.
        var eur = consumed.GetProperty("currencies").GetProperty("EUR");
        Assert.Equal(10.0, eur.GetProperty("price").GetProperty("mean").GetDouble());
        Assert.Equal(10.0, eur.GetProperty("orderValue").GetProperty("mean").GetDouble());
        Assert.Equal(2, eur.GetProperty("products").GetProperty("teapot").GetProperty("count").GetInt64());
    }

    private string CreateTopics(string prefix)
    {
        var topic = fixture.CreateOrderTopics(prefix);
        return topic;
    }

    private List<ConsumeResult<string, Order>> ReadOrders(string topic, int expected)
    {
        using var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = fixture.RegistryUrl });
        using var consumer = new ConsumerBuilder<string, Order>(fixture.ConsumerConfig(StackFixture.Unique("verify")))
            .SetValueDeserializer(new AvroDeserializer<Order>(registry).AsSyncOverAsync())
            .Build();
        consumer.Subscribe(topic);
        var results = KafkaTestClient.ConsumeAll(consumer, expected, TimeSpan.FromSeconds(30));
        consumer.Close();
        Assert.Equal(expected, results.Count);
        return results;
    }

    private List<ConsumeResult<byte[]?, byte[]?>> ReadRaw(string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(fixture.ConsumerConfig(StackFixture.Unique("verify"))).Build();
        consumer.Subscribe(topic);
        var results = KafkaTestClient.ConsumeAll(consumer, expected, TimeSpan.FromSeconds(30));
        // Nothing more may follow: read a little longer to catch duplicates.
        var extra = KafkaTestClient.ConsumeAll(consumer, 1, TimeSpan.FromSeconds(1));
        consumer.Close();
        Assert.Equal(expected, results.Count);
        Assert.Empty(extra);
        return results;
    }

    [Fact]
    public async Task Produce_AtARate_PacesFromTheClockAndNeverRunsAhead()
    {
        var topic = CreateTopics("rate");

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--rate", "40", "--duration", "2"]);

        // Order n leaves at n / rate seconds if that is before the end: 2 s at 40/s allow 80 orders.
        Assert.InRange(produced.GetProperty("produced").GetInt64(), 40, 80);
        Assert.Equal(0, produced.GetProperty("failed").GetInt64());
    }

    [Fact]
    public async Task Consume_OnATopicWithoutItsSideTopics_CreatesDeadLetterAndStatsTopicsWithItsPartitionCount()
    {
        var topic = fixture.CreateTopic("side-topics", partitions: 5);
        await OrdersCommand.RunJsonAsync(["produce", .. OrdersCommand.Endpoints(fixture, topic), "--count", "50", "--invalid-ratio", "0.1"]);

        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. OrdersCommand.Endpoints(fixture, topic), "--group", StackFixture.Unique("side-topics"), "--until-idle", "3"]);

        Assert.Equal(50, consumed.GetProperty("processed").GetInt64() + consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = fixture.BootstrapServers }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(10));
        Assert.Equal(5, metadata.Topics.Single(t => t.Topic == Topics.DeadLetterFor(topic)).Partitions.Count);
        Assert.Equal(5, metadata.Topics.Single(t => t.Topic == Topics.StatsFor(topic)).Partitions.Count);
    }
}
