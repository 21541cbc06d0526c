using System.Globalization;
using System.Text;
using Avro;
using Avro.Generic;
using Orders.Contracts;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// The exact state of one input partition for one consumer group: <see cref="Data"/> covers the
/// records before <see cref="NextOffset"/>, no more, no less. Restoring it and resuming at
/// <see cref="NextOffset"/> is exact whatever happened to group offsets, and any checkpoint,
/// even a stale one, is self-consistent (it only costs reprocessing).
/// </summary>
/// <param name="DeadLetterPartition">The partition of the dead-letter topic that holds this partition's dead letters.</param>
/// <param name="DeadLetterOffset">Dead letters for records at or after <see cref="NextOffset"/> sit at or after this offset of it.</param>
public sealed record PartitionCheckpoint(
    string Group,
    string Topic,
    int Partition,
    string CheckpointId,
    long NextOffset,
    int DeadLetterPartition,
    long DeadLetterOffset,
    DateTimeOffset WrittenAt,
    AggregateData Data)
{
    /// <summary>Records completed above <see cref="NextOffset"/>, as <see cref="Partitions.OffsetTracker.ToRanges"/> encodes them; empty for a checkpoint written before records completed out of order.</summary>
    public IReadOnlyList<long> CompletedRanges { get; init; } = [];
}

/// <summary>One record of a checkpoint on the stats topic: chunk <see cref="Chunk"/> of <see cref="ChunkCount"/>.</summary>
public sealed record CheckpointChunk(PartitionCheckpoint Checkpoint, int Chunk, int ChunkCount);

/// <summary>
/// Checkpoints as Avro records of <c>partition-checkpoint.avsc</c>, split into chunks so that no
/// record comes near the topic's maximum message size however many products there are.
/// </summary>
public static class CheckpointCodec
{
    public static RecordSchema Schema { get; } = (RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Checkpoint);

    private static readonly RecordSchema StatsSchema = (RecordSchema)((RecordSchema)Schema["overall"].Schema);
    private static readonly RecordSchema MinuteSchema = (RecordSchema)((ArraySchema)Schema["minutes"].Schema).ItemSchema;
    private static readonly RecordSchema ProductSchema = (RecordSchema)((ArraySchema)Schema["products"].Schema).ItemSchema;

    // Encoded size of one product entry beyond its name: count, sum text, min, max and lengths.
    private const int ProductOverheadBytes = 64;
    private const int HeaderBytes = 256;

    /// <summary>The record key: compaction keeps the newest record per group, partition and chunk.</summary>
    public static string KeyFor(string group, int partition, int chunk) =>
        string.Create(CultureInfo.InvariantCulture, $"{group}/{partition}/{chunk}");

    /// <summary>The key prefix of every chunk of a group's checkpoints for a partition.</summary>
    public static string KeyPrefixFor(string group, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{group}/{partition}/");

    /// <summary>Splits the checkpoint into records of at most about <paramref name="chunkBytes"/> encoded bytes each.</summary>
    public static IReadOnlyList<GenericRecord> ToRecords(PartitionCheckpoint checkpoint, int chunkBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkBytes, 1024);
        var slices = new List<List<KeyValuePair<string, PriceStatistics>>> { new() };
        var used = HeaderBytes + Encoding.UTF8.GetByteCount(checkpoint.Group) + Encoding.UTF8.GetByteCount(checkpoint.Topic) + (checkpoint.CompletedRanges.Count * 10)
            + (checkpoint.Data.Minutes.Count * ProductOverheadBytes) + (checkpoint.Data.DeadLettered.Count * 32);
        foreach (var product in checkpoint.Data.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var size = Encoding.UTF8.GetByteCount(product.Key) + ProductOverheadBytes;
            if (used + size > chunkBytes && slices[^1].Count > 0)
            {
                slices.Add([]);
                used = HeaderBytes;
            }

            slices[^1].Add(product);
            used += size;
        }

        var records = new List<GenericRecord>(slices.Count);
        for (var i = 0; i < slices.Count; i++)
        {
            var first = i == 0;
            var record = new GenericRecord(Schema);
            record.Add("group", checkpoint.Group);
            record.Add("topic", checkpoint.Topic);
            record.Add("partition", checkpoint.Partition);
            record.Add("checkpointId", checkpoint.CheckpointId);
            record.Add("chunk", i);
            record.Add("chunkCount", slices.Count);
            record.Add("nextOffset", checkpoint.NextOffset);
            record.Add("deadLetterPartition", checkpoint.DeadLetterPartition);
            record.Add("deadLetterOffset", checkpoint.DeadLetterOffset);
            record.Add("writtenAt", checkpoint.WrittenAt.UtcDateTime);
            record.Add("skippedByRetention", checkpoint.Data.SkippedByRetention);
            record.Add("lateOrders", checkpoint.Data.LateOrders);
            record.Add("deadLettered", first
                ? checkpoint.Data.DeadLettered.ToDictionary(p => p.Key, p => (object)p.Value, StringComparer.Ordinal)
                : new Dictionary<string, object>());
            record.Add("overall", ToRecord(first ? checkpoint.Data.Overall : PriceStatistics.Empty));
            record.Add("completed", first ? checkpoint.CompletedRanges.Select(r => (object)r).ToArray() : []);
            record.Add("minutes", first
                ? checkpoint.Data.Minutes.OrderBy(m => m.Key).Select(m => (object)MinuteRecord(m.Key, m.Value)).ToArray()
                : []);
            record.Add("products", slices[i].Select(p => (object)ProductRecord(p.Key, p.Value)).ToArray());
            records.Add(record);
        }

        return records;
    }

    /// <exception cref="InvalidDataException">The record does not hold a usable chunk.</exception>
    public static CheckpointChunk FromRecord(GenericRecord record)
    {
        try
        {
            var chunk = (int)record["chunk"];
            var chunkCount = (int)record["chunkCount"];
            if (chunkCount < 1 || chunk < 0 || chunk >= chunkCount)
            {
                throw new InvalidDataException($"chunk {chunk} of {chunkCount}");
            }

            var deadLettered = ((IDictionary<string, object>)record["deadLettered"])
                .ToDictionary(p => p.Key, p => Convert.ToInt64(p.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
            var minutes = new Dictionary<long, PriceStatistics>();
            foreach (GenericRecord minute in (object[])record["minutes"])
            {
                minutes[ToUnixMs(minute["minute"])] = StatsFrom((GenericRecord)minute["stats"]);
            }

            var products = new Dictionary<string, PriceStatistics>(StringComparer.Ordinal);
            foreach (GenericRecord product in (object[])record["products"])
            {
                products[(string)product["product"]] = StatsFrom((GenericRecord)product["stats"]);
            }

            var data = new AggregateData(
                StatsFrom((GenericRecord)record["overall"]),
                products,
                minutes,
                deadLettered,
                (long)record["skippedByRetention"],
                (long)record["lateOrders"]);
            var nextOffset = (long)record["nextOffset"];
            long[] completed = [.. ((object[])record["completed"]).Select(r => Convert.ToInt64(r, CultureInfo.InvariantCulture))];
            // Refused here, with the record's position in the log, rather than when a restore uses it.
            _ = new Partitions.OffsetTracker(nextOffset, completed);
            var checkpoint = new PartitionCheckpoint(
                (string)record["group"],
                (string)record["topic"],
                (int)record["partition"],
                (string)record["checkpointId"],
                nextOffset,
                (int)record["deadLetterPartition"],
                (long)record["deadLetterOffset"],
                DateTimeOffset.FromUnixTimeMilliseconds(ToUnixMs(record["writtenAt"])),
                data)
            {
                CompletedRanges = completed,
            };
            return new CheckpointChunk(checkpoint, chunk, chunkCount);
        }
        catch (Exception e) when (e is InvalidCastException or KeyNotFoundException or AvroException or FormatException or OverflowException or NullReferenceException)
        {
            throw new InvalidDataException($"not a usable checkpoint chunk: {e.Message}", e);
        }
    }

    /// <summary>Puts the chunks of one checkpoint back together; null unless all of them are there.</summary>
    public static PartitionCheckpoint? Assemble(IReadOnlyCollection<CheckpointChunk> chunks)
    {
        if (chunks.Count == 0)
        {
            return null;
        }

        var first = chunks.FirstOrDefault(c => c.Chunk == 0);
        var count = chunks.First().ChunkCount;
        if (first is null || chunks.Select(c => c.Chunk).Distinct().Count() != count || chunks.Any(c => c.ChunkCount != count))
        {
            return null;
        }

        var products = new Dictionary<string, PriceStatistics>(StringComparer.Ordinal);
        foreach (var chunk in chunks)
        {
            foreach (var (product, stats) in chunk.Checkpoint.Data.Products)
            {
                products[product] = stats;
            }
        }

        return first.Checkpoint with { Data = first.Checkpoint.Data with { Products = products } };
    }

    private static GenericRecord ToRecord(PriceStatistics stats)
    {
        var record = new GenericRecord(StatsSchema);
        record.Add("count", stats.Count);
        record.Add("sum", stats.Sum.ToString(CultureInfo.InvariantCulture));
        record.Add("min", stats.Count == 0 ? 0.0 : stats.Min);
        record.Add("max", stats.Count == 0 ? 0.0 : stats.Max);
        return record;
    }

    private static PriceStatistics StatsFrom(GenericRecord record)
    {
        var count = (long)record["count"];
        var sum = decimal.Parse((string)record["sum"], NumberStyles.Number, CultureInfo.InvariantCulture);
        return count == 0 ? PriceStatistics.Empty : new PriceStatistics(count, sum, (double)record["min"], (double)record["max"]);
    }

    private static GenericRecord MinuteRecord(long minute, PriceStatistics stats)
    {
        var record = new GenericRecord(MinuteSchema);
        record.Add("minute", DateTimeOffset.FromUnixTimeMilliseconds(minute).UtcDateTime);
        record.Add("stats", ToRecord(stats));
        return record;
    }

    private static GenericRecord ProductRecord(string product, PriceStatistics stats)
    {
        var record = new GenericRecord(ProductSchema);
        record.Add("product", product);
        record.Add("stats", ToRecord(stats));
        return record;
    }

    // Apache.Avro hands timestamp-millis over as a DateTime; a reader without the logical type sees a long.
    private static long ToUnixMs(object value) => value switch
    {
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
        long ms => ms,
        _ => throw new InvalidCastException($"expected a timestamp, got {value?.GetType().Name ?? "null"}"),
    };
}
