using Confluent.Kafka;
using Orders.Contracts;
using Orders.Decoding;
using Orders.Processor.Records;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>
/// The read-ahead (<see cref="OrderPipeline.ReadAhead"/>, on the polling thread) gives what the loop's
/// own read would, or leaves the record to the loop: it never asks the registry and never throws, so
/// every decision about a record that cannot be read stays the loop's.
/// </summary>
public sealed class OrderPipelineTests
{
    private readonly FakeRegistry _registry;
    private readonly OrderPipeline _pipeline;

    public OrderPipelineTests()
    {
        (var client, _registry) = FakeRegistry.Create();
        _pipeline = new OrderPipeline(new OrderDecoder(client), new SimulatedDownstream(0, LatencyRange.None, new Random(1), TimeProvider.System));
    }

    [Fact]
    public void ReadAhead_BeforeTheWriterSchemaIsKnown_LeavesTheRecordToTheLoop_WithoutAskingTheRegistry()
    {
        Assert.Null(_pipeline.ReadAhead(Record(LoopHarness.Order(12.5))));
        Assert.Equal(0, _registry.SchemaCalls);
    }

    [Fact]
    public async Task ReadAhead_OnceTheSchemaIsKnown_GivesTheOrderAndItsVerdict_AsTheLoopsReadDoes()
    {
        await _pipeline.ReadAsync(Record(LoopHarness.Order(1)));
        var valid = Record(LoopHarness.Order(12.5, product: "lamp"));
        var invalid = Record(LoopHarness.Order(-3));

        var (order, verdict) = _pipeline.ReadAhead(valid)!.Value;
        var (badOrder, badVerdict) = _pipeline.ReadAhead(invalid)!.Value;

        Assert.Equal(("lamp", 12.5, (string?)null), (order.Product, order.Price, verdict));
        Assert.Equal(-3, badOrder.Price);
        Assert.NotNull(badVerdict);
        Assert.Equal((await _pipeline.ReadAsync(invalid)).Invalid, badVerdict);
        Assert.Equal((await _pipeline.ReadAsync(valid)).Order.OrderId, order.OrderId);
        Assert.Equal(1, _registry.SchemaCalls);
    }

    [Theory]
    [InlineData("not the wire format")]
    [InlineData("a body cut short")]
    [InlineData("no value")]
    public async Task ReadAhead_OfARecordThatIsNoOrder_LeavesItToTheLoop_WhichFindsItPoison(string kind)
    {
        await _pipeline.ReadAsync(Record(LoopHarness.Order(1)));
        var whole = LoopHarness.Order(1).Value!;
        var record = Record(LoopHarness.Order(1));
        record.Message.Value = kind switch
        {
            "not the wire format" => LoopHarness.Poison().Value,
            "a body cut short" => whole[..8],
            _ => null,
        };

        Assert.Null(_pipeline.ReadAhead(record));
        await Assert.ThrowsAsync<PoisonRecordException>(async () => await _pipeline.ReadAsync(record));
    }

    [Fact]
    public async Task ReadAsync_GivenWhatWasReadAhead_ReturnsIt_WithoutReadingTheRecordAgain()
    {
        // Bytes that are no order: read again, they would fail.
        var record = Record(LoopHarness.Poison());
        var ahead = new Order { OrderId = "read-ahead" };

        var reading = _pipeline.ReadAsync(record, (ahead, "why"));

        Assert.True(reading.IsCompletedSuccessfully);
        var (order, invalid) = await reading;
        Assert.Same(ahead, order);
        Assert.Equal("why", invalid);
    }

    private static ConsumeResult<byte[]?, byte[]?> Record(Message<byte[]?, byte[]?> message) =>
        new() { Message = message, TopicPartitionOffset = new TopicPartitionOffset("orders", 0, 0) };
}
