using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Partitions;

namespace Orders.Processor.UnitTests;

public sealed class CheckpointTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ToRecords_ThenAssemble_GivesTheCheckpointBack()
    {
        var checkpoint = Checkpoint(products: 3);

        var chunks = CheckpointCodec.ToRecords(checkpoint, valueLimit: 256 * 1024).Select(RoundTrip).ToList();
        var assembled = CheckpointCodec.Assemble(chunks)!;

        Assert.Single(chunks);
        Assert.Equal(checkpoint with { Data = null! }, assembled with { Data = null! });
        AssertSameCurrencies(checkpoint.Data, assembled.Data);
        Assert.Null(assembled.Data.Unsplit);
        Assert.Equal(checkpoint.Data.DeadLettered, assembled.Data.DeadLettered);
        Assert.Equal((checkpoint.Data.SkippedByRetention, checkpoint.Data.LateOrders), (assembled.Data.SkippedByRetention, assembled.Data.LateOrders));
    }

    [Fact]
    public void ToRecords_TenThousandProducts_SplitsIntoChunksBelowTheBudget()
    {
        const int budget = 64 * 1024;
        var checkpoint = Checkpoint(products: 10_000);

        var records = CheckpointCodec.ToRecords(checkpoint, budget);
        var sizes = records.Select(r => Encode(r).Length).ToList();

        Assert.True(records.Count > 1, $"{records.Count} chunk(s)");
        Assert.All(sizes, size => Assert.True(size <= budget, $"a chunk of {size} bytes exceeds {budget}"));
        var assembled = CheckpointCodec.Assemble(records.Select(RoundTrip).ToList())!;
        Assert.Equal(10_000, assembled.Data.Currencies.Values.Sum(c => c.Products.Count));
        AssertSameCurrencies(checkpoint.Data, assembled.Data);
    }

    [Fact]
    public void Assemble_WithAChunkMissing_IsNothing()
    {
        var chunks = CheckpointCodec.ToRecords(Checkpoint(products: 5_000), 32 * 1024).Select(RoundTrip).ToList();
        Assert.True(chunks.Count > 2);

        Assert.Null(CheckpointCodec.Assemble(chunks.Where(c => c.Chunk != 1).ToList()));
        Assert.Null(CheckpointCodec.Assemble([]));
    }

    [Fact]
    public void ACheckpointWrittenBeforeCurrencies_Restores_WithItsFiguresKeptApart_NotAsACurrency()
    {
        var fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "legacy-checkpoint");
        var writer = global::Avro.Schema.Parse(File.ReadAllText(Path.Combine(fixture, "partition-checkpoint.avsc")));
        using var stream = new MemoryStream(File.ReadAllBytes(Path.Combine(fixture, "checkpoint.bin")));
        var record = new GenericDatumReader<GenericRecord>(writer, CheckpointCodec.Schema).Read(null!, new BinaryDecoder(stream));

        var checkpoint = CheckpointCodec.Assemble([CheckpointCodec.FromRecord(record)])!;

        // As the fixture's README says it was written.
        Assert.Equal(("order-processor", 2, 12L), (checkpoint.Group, checkpoint.Partition, checkpoint.NextOffset));
        Assert.Empty(checkpoint.Data.Currencies);
        var old = checkpoint.Data.Unsplit!;
        Assert.Equal((6, 612.75m, 10.5m, 250.25m), (old.Overall.Count, old.Overall.Price.Sum, old.Overall.Price.Min, old.Overall.Price.Max));
        Assert.Equal(0, old.Overall.Value.Count);
        Assert.Equal((3, 151.5m), (old.Products["keyboard"].Count, old.Products["keyboard"].Price.Sum));
        Assert.Equal(2, old.Minutes.Count);
        Assert.Equal(2, checkpoint.Data.DeadLettered["invalid"]);
        Assert.Equal((3, 1), (checkpoint.Data.SkippedByRetention, checkpoint.Data.LateOrders));
        Assert.Empty(checkpoint.CompletedRanges);
    }

    [Fact]
    public void ALegacyCheckpoint_RestoredAndWrittenAgain_KeepsItsUnsplitFiguresBesideTheNewCurrencies()
    {
        var unsplit = new CurrencyData(
            new OrderMeasures(new PriceStatistics(6, 612.75m, 10.5m, 250.25m), PriceStatistics.Empty),
            new Dictionary<string, OrderMeasures> { ["mouse"] = new(new PriceStatistics(1, 60.75m, 60.75m, 60.75m), PriceStatistics.Empty) },
            new Dictionary<long, OrderMeasures> { [Now.ToUnixTimeMilliseconds()] = new(new PriceStatistics(6, 612.75m, 10.5m, 250.25m), PriceStatistics.Empty) });
        var aggregate = PartitionAggregate.FromData(AggregateData.Empty with { Unsplit = unsplit }, 60);
        aggregate.Add("USD", "mouse", 10, 2, Now.ToUnixTimeMilliseconds());
        var checkpoint = new PartitionCheckpoint("g", "orders", 0, "x-1", 7, 0, 0, Now, aggregate.ToData());

        var assembled = CheckpointCodec.Assemble([.. CheckpointCodec.ToRecords(checkpoint, 4096).Select(RoundTrip)])!;

        Assert.Equal(unsplit.Overall, assembled.Data.Unsplit!.Overall);
        Assert.Equal(unsplit.Products, assembled.Data.Unsplit.Products);
        Assert.Equal(unsplit.Minutes, assembled.Data.Unsplit.Minutes);
        Assert.Equal((1, 10m, 20m), (assembled.Data.Currencies["USD"].Overall.Count, assembled.Data.Currencies["USD"].Overall.Price.Sum, assembled.Data.Currencies["USD"].Overall.Value.Sum));
        Assert.Equal(7, assembled.Data.Count);
    }

    [Fact]
    public void FromRecord_NonsenseChunkNumbers_AreRejected()
    {
        var record = CheckpointCodec.ToRecords(Checkpoint(products: 1), 256 * 1024)[0];
        record.Add("chunk", 5);

        Assert.Throws<InvalidDataException>(() => CheckpointCodec.FromRecord(record));
    }

    [Fact]
    public void PartitionState_SkipTo_CountsDecisionsInTheGapAsDeadLetters_AndTheRestAsLost()
    {
        var decided = new Dictionary<long, DeadLetterDecision> { [12] = new("poison", 3), [20] = new("invalid", 4) };
        var state = new PartitionState(new TopicPartition("orders", 0), new PartitionAggregate(60), nextOffset: 10, 0, deadLetterFloor: 5, decided);

        var (lost, honoured) = state.SkipTo(15);

        Assert.Equal((4L, 1L), (lost, honoured));
        Assert.Equal(15, state.NextOffset);
        Assert.Equal(1, state.Aggregate.ToData().DeadLettered["poison"]);
        Assert.True(state.TryTakeDecision(20, out var later) && later.Reason == "invalid");
    }

    [Fact]
    public void PartitionState_DeadLetterBound_StaysAtTheOldestDecisionStillToHonour()
    {
        var decided = new Dictionary<long, DeadLetterDecision> { [12] = new("poison", 30), [20] = new("invalid", 41) };
        var state = new PartitionState(new TopicPartition("orders", 0), new PartitionAggregate(60), nextOffset: 10, 0, deadLetterFloor: 50, decided);

        Assert.Equal(30, state.DeadLetterBound(acknowledgedFrontier: 60));
        state.TryTakeDecision(12, out _);
        Assert.Equal(41, state.DeadLetterBound(acknowledgedFrontier: 60));
        state.TryTakeDecision(20, out _);
        Assert.Equal(60, state.DeadLetterBound(acknowledgedFrontier: 60));
        Assert.Equal(50, state.DeadLetterBound(acknowledgedFrontier: 0));
    }

    [Fact]
    public void PartitionState_IsDirtyUntilACheckpointCoversItsVersion()
    {
        var state = new PartitionState(new TopicPartition("orders", 0), new PartitionAggregate(60), 0, 0, 0, new Dictionary<long, DeadLetterDecision>());
        Assert.False(state.Dirty);

        state.Advance(0);
        Assert.True(state.Dirty);

        state.Checkpoint.Covered(state.NextOffset, state.Version);
        Assert.False(state.Dirty);
    }

    private static PartitionCheckpoint Checkpoint(int products)
    {
        var aggregate = new PartitionAggregate(windowMinutes: 60);
        var random = new Random(3);
        for (var i = 0; i < products; i++)
        {
            aggregate.Add(
                new[] { "EUR", "USD", "GBP", "JPY" }[i % 4], $"product-with-a-longish-name-{i:D5}", Math.Round(1 + (random.NextDouble() * 500), 2), 1 + (i % 10),
                Now.ToUnixTimeMilliseconds() - (i % 5 * 60_000));
        }

        aggregate.AddDeadLetter("poison");
        aggregate.AddDeadLetter("retries-exhausted");
        aggregate.AddSkippedByRetention(7);
        return new PartitionCheckpoint("order-processor", "orders", 3, "abc-1", 1234, 3, 77, Now, aggregate.ToData());
    }

    private static void AssertSameCurrencies(AggregateData expected, AggregateData actual)
    {
        Assert.Equal(expected.Currencies.Keys.Order(), actual.Currencies.Keys.Order());
        foreach (var (currency, data) in expected.Currencies)
        {
            Assert.Equal(data.Overall, actual.Currencies[currency].Overall);
            Assert.Equal(data.Products, actual.Currencies[currency].Products);
            Assert.Equal(data.Minutes, actual.Currencies[currency].Minutes);
        }
    }

    private static byte[] Encode(GenericRecord record)
    {
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(CheckpointCodec.Schema).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    private static CheckpointChunk RoundTrip(GenericRecord record)
    {
        using var stream = new MemoryStream(Encode(record));
        var read = new GenericDatumReader<GenericRecord>(CheckpointCodec.Schema, CheckpointCodec.Schema).Read(null!, new BinaryDecoder(stream));
        return CheckpointCodec.FromRecord(read);
    }
}
