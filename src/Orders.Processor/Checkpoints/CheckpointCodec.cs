using System.Globalization;
using System.Text;
using Avro;
using Avro.Generic;
using Orders.Contracts;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// Checkpoints as Avro records of <c>partition-checkpoint.avsc</c>, split into chunks so that no
/// record outgrows what the stats topic takes however many products and minutes there are
/// (<see cref="CheckpointChunks"/>): chunk 0 carries the header and every currency's totals, every
/// chunk a slice of the per-product and per-minute figures. The pre-currency fields
/// (<c>overall</c>, <c>minutes</c>, <c>products</c>) carry only <see cref="AggregateData.Unsplit"/>:
/// a checkpoint of the earlier processor restores into it.
/// </summary>
/// <remarks>
/// Keys. A checkpoint of one record is keyed <c>group/partition/0</c>, so compaction keeps the
/// newest. The chunks of a larger one are keyed by its id, <c>group/partition/id/chunk</c>: a write
/// that fails half-way overwrites no chunk of the checkpoint before it, so compaction can never
/// leave two halves that assemble into nothing, and a restore always finds the newest complete
/// checkpoint. The writer deletes (tombstones) a checkpoint's chunks once a newer one is on record.
/// </remarks>
public static class CheckpointCodec
{
    public static RecordSchema Schema { get; } = (RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Checkpoint);

    /// <summary>The record key of a chunk.</summary>
    public static string KeyFor(string group, int partition, string checkpointId, int chunk, int chunkCount) =>
        chunkCount == 1
            ? string.Create(CultureInfo.InvariantCulture, $"{group}/{partition}/0")
            : string.Create(CultureInfo.InvariantCulture, $"{group}/{partition}/{checkpointId}/{chunk}");

    /// <summary>The key prefix of every chunk of a group's checkpoints for a partition.</summary>
    public static string KeyPrefixFor(string group, int partition) =>
        string.Create(CultureInfo.InvariantCulture, $"{group}/{partition}/");

    /// <summary>
    /// Whether the writer may delete the record under <paramref name="key"/> once a newer checkpoint is
    /// on record: only keys that name their checkpoint. <c>group/partition/0</c> is every one-record
    /// checkpoint's, the newest included, so another instance's tombstone must never reach it.
    /// </summary>
    public static bool IsDeletable(string key) => key.Count(c => c == '/') >= 3;

    /// <summary>Splits the checkpoint into records of at most <paramref name="valueLimit"/> encoded bytes each.</summary>
    /// <exception cref="CheckpointTooLargeException">Its header alone is larger than <paramref name="valueLimit"/>.</exception>
    public static IReadOnlyList<GenericRecord> ToRecords(PartitionCheckpoint checkpoint, int valueLimit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(valueLimit, 1024);
        var slices = CheckpointChunks.Slice(checkpoint, valueLimit);
        var records = new List<GenericRecord>(slices.Count);
        for (var i = 0; i < slices.Count; i++)
        {
            records.Add(Chunk(checkpoint, i, slices.Count, slices[i]));
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
                DateTimeOffset.FromUnixTimeMilliseconds(CheckpointRecords.ToUnixMs(record["writtenAt"])),
                DataFrom(record))
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

        var data = first.Checkpoint.Data;
        var currencies = data.Currencies.ToDictionary(
            c => c.Key,
            c => c.Value with { Products = new Dictionary<string, OrderMeasures>(StringComparer.Ordinal), Minutes = new Dictionary<long, OrderMeasures>() },
            StringComparer.Ordinal);
        var unsplit = CurrencyData.Empty with { Products = new Dictionary<string, OrderMeasures>(StringComparer.Ordinal), Minutes = new Dictionary<long, OrderMeasures>() };
        foreach (var chunk in chunks)
        {
            foreach (var (currency, part) in chunk.Checkpoint.Data.Currencies)
            {
                if (!currencies.TryGetValue(currency, out var whole))
                {
                    // A currency with products or minutes but no totals in chunk 0 cannot be: the checkpoint is not one.
                    return null;
                }

                Merge(whole, part);
            }

            if (chunk.Checkpoint.Data.Unsplit is { } old)
            {
                Merge(unsplit, old);
            }
        }

        var kept = data.Unsplit is { } overall
            ? overall with { Products = unsplit.Products, Minutes = unsplit.Minutes }
            : unsplit.Products.Count > 0 || unsplit.Minutes.Count > 0 ? unsplit : null;
        return first.Checkpoint with { Data = data with { Currencies = currencies, Unsplit = kept } };
    }

    private static void Merge(CurrencyData whole, CurrencyData part)
    {
        foreach (var (product, measures) in part.Products)
        {
            ((Dictionary<string, OrderMeasures>)whole.Products)[product] = measures;
        }

        foreach (var (minute, measures) in part.Minutes)
        {
            ((Dictionary<long, OrderMeasures>)whole.Minutes)[minute] = measures;
        }
    }

    private static GenericRecord Chunk(PartitionCheckpoint checkpoint, int index, int count, List<CheckpointChunks.Entry> slice)
    {
        var first = index == 0;
        var data = checkpoint.Data;
        var unsplit = data.Unsplit ?? CurrencyData.Empty;
        var minutes = slice.Where(e => e is { IsMinute: true, Currency: not null })
            .GroupBy(e => e.Currency!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<long, OrderMeasures>)g.ToDictionary(e => e.Minute, e => e.Measures), StringComparer.Ordinal);
        IEnumerable<(string Currency, CurrencyData Data)> currencies = first
            ? data.Currencies.Select(c => (c.Key, c.Value with { Minutes = minutes.GetValueOrDefault(c.Key) ?? new Dictionary<long, OrderMeasures>() }))
            : minutes.Select(m => (m.Key, CurrencyData.Empty with { Minutes = m.Value }));
        var record = new GenericRecord(Schema);
        record.Add("group", checkpoint.Group);
        record.Add("topic", checkpoint.Topic);
        record.Add("partition", checkpoint.Partition);
        record.Add("checkpointId", checkpoint.CheckpointId);
        record.Add("chunk", index);
        record.Add("chunkCount", count);
        record.Add("nextOffset", checkpoint.NextOffset);
        record.Add("deadLetterPartition", checkpoint.DeadLetterPartition);
        record.Add("deadLetterOffset", checkpoint.DeadLetterOffset);
        record.Add("writtenAt", checkpoint.WrittenAt.UtcDateTime);
        record.Add("skippedByRetention", data.SkippedByRetention);
        record.Add("lateOrders", data.LateOrders);
        record.Add("deadLettered", first ? data.DeadLettered.ToDictionary(p => p.Key, p => (object)p.Value, StringComparer.Ordinal) : new Dictionary<string, object>());
        record.Add("completed", first ? checkpoint.CompletedRanges.Select(r => (object)r).ToArray() : []);
        record.Add("overall", CheckpointRecords.Stats(first ? unsplit.Overall.Price : PriceStatistics.Empty));
        record.Add("minutes", slice.Where(e => e is { IsMinute: true, Currency: null }).Select(e => (object)CheckpointRecords.Minute(e.Minute, e.Measures.Price)).ToArray());
        record.Add("products", slice.Where(e => e is { IsMinute: false, Currency: null }).Select(e => (object)CheckpointRecords.Product(e.Product!, e.Measures.Price)).ToArray());
        record.Add("currencies", currencies.OrderBy(c => c.Currency, StringComparer.Ordinal).Select(c => (object)CheckpointRecords.Currency(c.Currency, c.Data)).ToArray());
        record.Add("currencyProducts", slice.Where(e => e is { IsMinute: false, Currency: not null }).Select(e => (object)CheckpointRecords.CurrencyProduct(e.Currency!, e.Product!, e.Measures)).ToArray());
        return record;
    }

    private static AggregateData DataFrom(GenericRecord record)
    {
        var deadLettered = ((IDictionary<string, object>)record["deadLettered"])
            .ToDictionary(p => p.Key, p => Convert.ToInt64(p.Value, CultureInfo.InvariantCulture), StringComparer.Ordinal);
        var currencies = new Dictionary<string, CurrencyData>(StringComparer.Ordinal);
        foreach (GenericRecord currency in (object[])record["currencies"])
        {
            var minutes = new Dictionary<long, OrderMeasures>();
            foreach (GenericRecord minute in (object[])currency["minutes"])
            {
                minutes[CheckpointRecords.ToUnixMs(minute["minute"])] = CheckpointRecords.Measures(minute);
            }

            currencies[(string)currency["currency"]] = new CurrencyData(CheckpointRecords.Measures(currency), new Dictionary<string, OrderMeasures>(StringComparer.Ordinal), minutes);
        }

        foreach (GenericRecord product in (object[])record["currencyProducts"])
        {
            var currency = (string)product["currency"];
            if (!currencies.TryGetValue(currency, out var data))
            {
                // Chunks after the first carry products and minutes only: their currencies' totals are in chunk 0.
                data = CurrencyData.Empty with { Products = new Dictionary<string, OrderMeasures>(StringComparer.Ordinal) };
                currencies[currency] = data;
            }

            ((Dictionary<string, OrderMeasures>)data.Products)[(string)product["product"]] = CheckpointRecords.Measures(product);
        }

        return new AggregateData(currencies, Unsplit(record), deadLettered, (long)record["skippedByRetention"], (long)record["lateOrders"]);
    }

    /// <summary>What a checkpoint of the pre-currency processor counted (prices only), or null when this chunk holds none.</summary>
    private static CurrencyData? Unsplit(GenericRecord record)
    {
        var overall = CheckpointRecords.StatsFrom((GenericRecord)record["overall"]);
        var minutes = ((object[])record["minutes"]).Cast<GenericRecord>()
            .ToDictionary(m => CheckpointRecords.ToUnixMs(m["minute"]), m => new OrderMeasures(CheckpointRecords.StatsFrom((GenericRecord)m["stats"]), PriceStatistics.Empty));
        var products = ((object[])record["products"]).Cast<GenericRecord>()
            .ToDictionary(p => (string)p["product"], p => new OrderMeasures(CheckpointRecords.StatsFrom((GenericRecord)p["stats"]), PriceStatistics.Empty), StringComparer.Ordinal);
        return overall.Count == 0 && minutes.Count == 0 && products.Count == 0
            ? null
            : new CurrencyData(new OrderMeasures(overall, PriceStatistics.Empty), products, minutes);
    }
}
