using System.Text;
using Avro.Generic;
using Avro.IO;
using Confluent.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.UnitTests.Fakes;

namespace Orders.Processor.UnitTests;

/// <summary>
/// Checkpoints cut into chunks no larger than the stats topic takes, and keyed so that compaction
/// never loses the newest complete one: over a model of compaction (the newest record per key,
/// tombstones gone), and through the real loop's writer.
/// </summary>
public sealed class CheckpointChunkingTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 4, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] Currencies = ["EUR", "GBP", "JPY", "USD"];

    [Fact]
    public void AWeekOfMinutesInFourCurrencies_IsSplitIntoChunksWithinAMegabyte_AndAssemblesWhole()
    {
        const int limit = 1_000_000;
        var checkpoint = Checkpoint("week", products: 50, minutes: 7 * 24 * 60, orders: 0);

        var records = CheckpointCodec.ToRecords(checkpoint, limit);
        var sizes = records.Select(r => Encode(r).Length).ToList();
        var assembled = CheckpointCodec.Assemble([.. records.Select(RoundTrip)])!;

        Assert.True(records.Count > 1, $"{records.Count} chunk(s) of {string.Join(", ", sizes)} bytes");
        Assert.All(sizes, size => Assert.True(size <= limit, $"a chunk of {size:N0} bytes exceeds {limit:N0}"));
        foreach (var currency in Currencies)
        {
            Assert.Equal(checkpoint.Data.Currencies[currency].Minutes, assembled.Data.Currencies[currency].Minutes);
            Assert.Equal(checkpoint.Data.Currencies[currency].Products, assembled.Data.Currencies[currency].Products);
            Assert.Equal(checkpoint.Data.Currencies[currency].Overall, assembled.Data.Currencies[currency].Overall);
        }
    }

    [Theory]
    [InlineData(4 * 1024)]
    [InlineData(20 * 1024)]
    [InlineData(300 * 1024)]
    public void EveryChunk_IsWithinTheLimit_ByItsEncodedSize(int limit)
    {
        var checkpoint = Checkpoint("sizes", products: 3000, minutes: 600, orders: 0);

        var sizes = CheckpointCodec.ToRecords(checkpoint, limit).Select(r => Encode(r).Length).ToList();

        Assert.All(sizes, size => Assert.True(size <= limit, $"a chunk of {size:N0} bytes exceeds {limit:N0}"));
        // Packed, not scattered: on average more than half of each chunk is used.
        Assert.True(sizes.Sum() > sizes.Count * limit / 2, $"{sizes.Count} chunks of {string.Join(", ", sizes)} bytes");
    }

    [Fact]
    public void AHeaderLargerThanTheLimit_IsRefusedSayingWhatToChange()
    {
        var checkpoint = Checkpoint("ranges", products: 1, minutes: 1, orders: 0) with { CompletedRanges = [.. Enumerable.Range(0, 4000).Select(i => 1_000_000_000L + (i * 3))] };

        var error = Assert.Throws<CheckpointTooLargeException>(() => CheckpointCodec.ToRecords(checkpoint, 4096));

        Assert.Contains("max.message.bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_OneRecordUnderThePartitionsKey_ChunksUnderTheirCheckpointsId()
    {
        Assert.Equal("g/3/0", CheckpointCodec.KeyFor("g", 3, "a-1", 0, 1));
        Assert.Equal("g/3/a-1/2", CheckpointCodec.KeyFor("g", 3, "a-1", 2, 5));
        Assert.False(CheckpointCodec.IsDeletable("g/3/0"));
        Assert.True(CheckpointCodec.IsDeletable("g/3/a-1/2"));
    }

    [Fact]
    public void APartialWriteOfAnyChunk_ThenCompaction_StillRestoresThePreviousCheckpoint()
    {
        var previous = Checkpoint("y-1", products: 2000, minutes: 60, orders: 10);
        var next = Checkpoint("z-2", products: 2000, minutes: 60, orders: 20);
        var nextChunks = Chunks(next);
        Assert.True(nextChunks.Count >= 3, $"{nextChunks.Count} chunks: too few to fail one in the middle");

        for (var failed = 0; failed < nextChunks.Count; failed++)
        {
            var log = new List<(string Key, CheckpointChunk? Chunk)>(Chunks(previous));
            log.AddRange(nextChunks.Where((_, i) => i != failed));

            var restored = Restore(Compact(log));

            Assert.True(restored is not null, $"nothing to restore after chunk {failed} of {nextChunks.Count} failed");
            Assert.Equal(previous.CheckpointId, restored.CheckpointId);
            Assert.Equal(previous.Data.Count, restored.Data.Count);
            Assert.Equal(previous.Data.Currencies["EUR"].Products, restored.Data.Currencies["EUR"].Products);
        }
    }

    [Fact]
    public async Task AfterACompleteCheckpoint_ThePreviousOnesChunksAreDeleted_AndCompactionLeavesOnlyTheNewest()
    {
        var run = new LoopHarness(o =>
        {
            o.UntilIdle = TimeSpan.FromSeconds(3);
            o.CheckpointChunkBytes = 4096;
        });
        // Enough products for several chunks; the second batch arrives after the first checkpoint, so there is a second.
        run.Consumer.Append(0, [.. Enumerable.Range(0, 300).Select(i => LoopHarness.Order(10 + i, product: $"a-product-with-a-long-name-{i:D4}"))]);
        run.Consumer.Assign(0);
        var appended = false;
        run.When(() => !appended && run.Checkpoints.Count > 0, () =>
        {
            appended = true;
            run.Consumer.Append(0, [.. Enumerable.Range(0, 300).Select(i => LoopHarness.Order(20 + i, product: $"a-product-with-a-long-name-{i:D4}"))]);
        });

        await run.RunAsync(TestContext.Current.CancellationToken);

        var written = run.Checkpoints.Select(m => (Key: Encoding.UTF8.GetString(m.Key!), Chunk: m.Value is null ? null : FromWire(m.Value))).ToList();
        var newest = written.Last(w => w.Chunk is not null).Chunk!.Checkpoint.CheckpointId;
        var superseded = written.Where(w => w.Chunk is not null && w.Chunk.Checkpoint.CheckpointId != newest && CheckpointCodec.IsDeletable(w.Key)).Select(w => w.Key).ToHashSet();
        var tombstoned = written.Where(w => w.Chunk is null).Select(w => w.Key).ToHashSet();
        var compacted = Compact(written);
        var restored = Restore(compacted);

        Assert.True(superseded.Count >= 2, $"no multi-chunk checkpoint was superseded: {string.Join(", ", written.Select(w => w.Key))}");
        Assert.Subset(tombstoned, superseded);
        Assert.DoesNotContain(compacted, c => c.Chunk!.Checkpoint.CheckpointId != newest && CheckpointCodec.IsDeletable(c.Key));
        Assert.NotNull(restored);
        Assert.Equal(newest, restored.CheckpointId);
        Assert.Equal(600, restored.Data.Count);
        Assert.Equal(600, restored.NextOffset);
    }

    /// <summary>What a restore finds: the newest complete checkpoint of what the log holds, in order.</summary>
    private static PartitionCheckpoint? Restore(IEnumerable<(string Key, CheckpointChunk? Chunk)> log)
    {
        var scan = new CheckpointScan();
        foreach (var (key, chunk) in log)
        {
            if (chunk is null)
            {
                scan.Deleted(key);
            }
            else
            {
                scan.Offer(key, chunk);
            }
        }

        return scan.Latest;
    }

    /// <summary>Log compaction run to the end: the newest record of every key, in log order; tombstones gone.</summary>
    private static List<(string Key, CheckpointChunk? Chunk)> Compact(List<(string Key, CheckpointChunk? Chunk)> log)
    {
        var newest = new Dictionary<string, int>();
        for (var i = 0; i < log.Count; i++)
        {
            newest[log[i].Key] = i;
        }

        return [.. log.Where((record, i) => newest[record.Key] == i && record.Chunk is not null)];
    }

    private static List<(string Key, CheckpointChunk? Chunk)> Chunks(PartitionCheckpoint checkpoint)
    {
        var records = CheckpointCodec.ToRecords(checkpoint, 8 * 1024);
        return [.. records.Select((r, i) => (CheckpointCodec.KeyFor(checkpoint.Group, checkpoint.Partition, checkpoint.CheckpointId, i, records.Count), (CheckpointChunk?)RoundTrip(r)))];
    }

    private static PartitionCheckpoint Checkpoint(string id, int products, int minutes, int orders)
    {
        var aggregate = new PartitionAggregate(windowMinutes: Math.Max(60, minutes));
        var start = Now.ToUnixTimeMilliseconds() - ((minutes - 1) * 60_000L);
        for (var i = 0; i < Math.Max(products, minutes) * Currencies.Length; i++)
        {
            aggregate.Add(
                Currencies[i % Currencies.Length], $"product-{i / Currencies.Length % products:D5}", 1 + (i % 997) + 0.25, 1 + (i % 7),
                start + (i / Currencies.Length % minutes * 60_000L));
        }

        for (var i = 0; i < orders; i++)
        {
            aggregate.Add("EUR", "extra", 5, 1, Now.ToUnixTimeMilliseconds());
        }

        return new PartitionCheckpoint("order-processor", "orders", 2, id, 1000 + orders, 2, 5, Now, aggregate.ToData());
    }

    /// <summary>A chunk as the writer wrote it: the wire format's 5 bytes, then Avro (the fake registry knows only the order schema).</summary>
    private static CheckpointChunk FromWire(byte[] value)
    {
        using var stream = new MemoryStream(value, 5, value.Length - 5);
        return CheckpointCodec.FromRecord(new GenericDatumReader<GenericRecord>(CheckpointCodec.Schema, CheckpointCodec.Schema).Read(null!, new BinaryDecoder(stream)));
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
        return CheckpointCodec.FromRecord(new GenericDatumReader<GenericRecord>(CheckpointCodec.Schema, CheckpointCodec.Schema).Read(null!, new BinaryDecoder(stream)));
    }
}
