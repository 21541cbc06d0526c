using System.Buffers.Binary;
using System.Globalization;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.Processor.Aggregates;

namespace Orders.IntegrationTests.Faults;

/// <summary>
/// An upgrade across a checkpoint format change: what the processor of an earlier day wrote is
/// restored by today's, through the registry and the stats topic as they would hold it.
/// </summary>
[Collection(FaultSuite.Name)]
public sealed class UpgradeTests : IAsyncLifetime
{
    // The fixture's own words (tests/Fixtures/legacy-checkpoint/README.md).
    private const string Group = "order-processor";
    private const int Partition = 2;
    private const long NextOffset = 12;

    private FaultStack _stack = null!;

    public async ValueTask InitializeAsync() => _stack = await FaultStack.StartAsync();

    public ValueTask DisposeAsync() => _stack.DisposeAsync();

    [Fact]
    public async Task ACheckpointWrittenBeforePerCurrencyAggregates_IsRestored_AndShownApartFromEveryCurrency()
    {
        var topic = _stack.CreateOrderTopics("upgrade", partitions: 3);
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "legacy-checkpoint");
        using (var registry = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = _stack.RegistryUrl }))
        using (var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _stack.Kafka.BootstrapServers, EnableIdempotence = true }).Build())
        {
            // The stats topic as the old processor left it: its schema registered, its chunk framed with that id.
            var oldSchema = await File.ReadAllTextAsync(Path.Combine(fixture, "partition-checkpoint.avsc"), TestContext.Current.CancellationToken);
            var id = await registry.RegisterSchemaAsync($"{Topics.StatsFor(topic)}-value", new Schema(oldSchema, SchemaType.Avro));
            var body = await File.ReadAllBytesAsync(Path.Combine(fixture, "checkpoint.bin"), TestContext.Current.CancellationToken);
            var framed = new byte[5 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(framed.AsSpan(1), id);
            body.CopyTo(framed, 5);
            await producer.ProduceAsync(new TopicPartition(Topics.StatsFor(topic), Partition), new Message<string, byte[]> { Key = $"{Group}/{Partition}/0", Value = framed }, TestContext.Current.CancellationToken);

            // The records it had counted: partition 2 up to its next offset (never read again, so anything will do).
            for (var i = 0; i < NextOffset; i++)
            {
                await producer.ProduceAsync(new TopicPartition(topic, Partition), new Message<string, byte[]> { Key = $"counted-{i}", Value = [0xFF] }, TestContext.Current.CancellationToken);
            }
        }

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. _stack.Endpoints(topic), "--count", "300", "--invalid-ratio", "0.1", "--seed", "5"]);
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. _stack.Endpoints(topic), "--group", Group, "--until-idle", "5"]);
        var stats = await OrdersCommand.RunJsonAsync(["stats", .. _stack.Endpoints(topic), "--group", Group]);

        // Nothing new was lost or read twice: every order produced now, and not one of the old.
        Assert.Equal(produced.GetProperty("valid").GetProperty("count").GetInt64(), consumed.GetProperty("processed").GetInt64());
        Assert.Equal(produced.GetProperty("invalid").GetInt64(), consumed.GetProperty("deadLettered").GetProperty("invalid").GetInt64());

        // The processor's summary (its state at the end, this run apart) and orders stats (the checkpoints) agree.
        foreach (var (document, state) in new[] { (consumed, consumed.GetProperty("state")), (stats, stats) })
        {
            // The old figures: kept, under their own name, with their note; not in any currency.
            var unsplit = document.GetProperty("unsplit");
            Assert.Equal(6, unsplit.GetProperty("count").GetInt64());
            Assert.Equal(612.75m, decimal.Parse(unsplit.GetProperty("price").GetProperty("sum").GetString()!, CultureInfo.InvariantCulture));
            Assert.Equal((10.5, 250.25), (unsplit.GetProperty("price").GetProperty("min").GetDouble(), unsplit.GetProperty("price").GetProperty("max").GetDouble()));
            Assert.Equal(AggregateData.UnsplitNote, unsplit.GetProperty("note").GetString());
            Assert.False(unsplit.TryGetProperty("orderValue", out _), "the old checkpoint knew no quantities");
            Assert.Equal(3, unsplit.GetProperty("products").GetProperty("keyboard").GetProperty("count").GetInt64());

            // The new orders: per currency, the old ones in none of them.
            var currencies = document.GetProperty("currencies").EnumerateObject().ToList();
            Assert.Equal(["EUR", "GBP", "USD"], currencies.Select(c => c.Name).Order());
            Assert.Equal(produced.GetProperty("valid").GetProperty("count").GetInt64(), currencies.Sum(c => c.Value.GetProperty("count").GetInt64()));
            Assert.Equal(6 + produced.GetProperty("valid").GetProperty("count").GetInt64(), document.GetProperty("count").GetInt64());

            // And the rest of what it held: its dead letters, its losses, its late orders.
            var deadLettered = state.GetProperty("deadLettered");
            Assert.Equal(1, deadLettered.GetProperty("poison").GetInt64());
            Assert.Equal(2 + produced.GetProperty("invalid").GetInt64(), deadLettered.GetProperty("invalid").GetInt64());
            Assert.Equal(3, state.GetProperty("skippedByRetention").GetInt64());
            Assert.Equal(1, document.GetProperty("lateOrders").GetInt64());
        }
    }
}
