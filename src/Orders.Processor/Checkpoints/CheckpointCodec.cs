using System.Globalization;
using System.Text;
using Avro;
using Avro.Generic;
using Orders.Contracts;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// Checkpoints as Avro records of <c>partition-checkpoint.avsc</c>, split into chunks so that no
/// record comes near the topic's maximum message size however many products there are: chunk 0
/// carries the totals, every chunk a slice of the per-currency, per-product statistics. The
/// pre-currency fields (<c>overall</c>, <c>minutes</c>, <c>products</c>) carry only
/// <see cref="AggregateData.Unsplit"/>: a checkpoint of the earlier processor restores into it.
/// </summary>
public static class CheckpointCodec
{
    public static RecordSchema Schema { get; } = (RecordSchema)global::Avro.Schema.Parse(OrderSchemas.Checkpoint);

    // Encoded size of one product or minute entry beyond its names: counts, sum texts, mins, maxes and lengths.
    private const int EntryOverheadBytes = 128;
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
        var data = checkpoint.Data;
        var unsplit = data.Unsplit ?? CurrencyData.Empty;
        var entries = data.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal)
            .SelectMany(c => c.Value.Products.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (Currency: c.Key, Product: p.Key, p.Value)))
            .Select(e => (e.Currency, e.Product, Measures: e.Value, Legacy: false))
            .Concat(unsplit.Products.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (Currency: "", Product: p.Key, Measures: p.Value, Legacy: true)));
        var slices = new List<List<(string Currency, string Product, OrderMeasures Measures, bool Legacy)>> { new() };
        var used = HeaderBytes + Encoding.UTF8.GetByteCount(checkpoint.Group) + Encoding.UTF8.GetByteCount(checkpoint.Topic) + (checkpoint.CompletedRanges.Count * 10)
            + ((data.Currencies.Values.Sum(c => c.Minutes.Count + 1) + unsplit.Minutes.Count) * EntryOverheadBytes) + (data.DeadLettered.Count * 32);
        foreach (var entry in entries)
        {
            var size = Encoding.UTF8.GetByteCount(entry.Product) + entry.Currency.Length + EntryOverheadBytes;
            if (used + size > chunkBytes && slices[^1].Count > 0)
            {
                slices.Add([]);
                used = HeaderBytes;
            }

            slices[^1].Add(entry);
            used += size;
        }

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
            c => c.Key, c => c.Value with { Products = new Dictionary<string, OrderMeasures>(StringComparer.Ordinal) }, StringComparer.Ordinal);
        var unsplitProducts = new Dictionary<string, OrderMeasures>(StringComparer.Ordinal);
        foreach (var chunk in chunks)
        {
            foreach (var (currency, part) in chunk.Checkpoint.Data.Currencies)
            {
                if (!currencies.TryGetValue(currency, out var whole))
                {
                    // A currency with products but no totals in chunk 0 cannot be: the checkpoint is not one.
                    return null;
                }

                foreach (var (product, measures) in part.Products)
                {
                    ((Dictionary<string, OrderMeasures>)whole.Products)[product] = measures;
                }
            }

            foreach (var (product, measures) in chunk.Checkpoint.Data.Unsplit?.Products ?? new Dictionary<string, OrderMeasures>())
            {
                unsplitProducts[product] = measures;
            }
        }

        var unsplit = data.Unsplit is { } old ? old with { Products = unsplitProducts } : unsplitProducts.Count > 0 ? CurrencyData.Empty with { Products = unsplitProducts } : null;
        return first.Checkpoint with { Data = data with { Currencies = currencies, Unsplit = unsplit } };
    }

    private static GenericRecord Chunk(PartitionCheckpoint checkpoint, int index, int count, List<(string Currency, string Product, OrderMeasures Measures, bool Legacy)> slice)
    {
        var first = index == 0;
        var data = checkpoint.Data;
        var unsplit = data.Unsplit ?? CurrencyData.Empty;
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
        record.Add("minutes", first ? unsplit.Minutes.OrderBy(m => m.Key).Select(m => (object)CheckpointRecords.Minute(m.Key, m.Value.Price)).ToArray() : []);
        record.Add("products", slice.Where(e => e.Legacy).Select(e => (object)CheckpointRecords.Product(e.Product, e.Measures.Price)).ToArray());
        record.Add("currencies", first ? data.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => (object)CheckpointRecords.Currency(c.Key, c.Value)).ToArray() : []);
        record.Add("currencyProducts", slice.Where(e => !e.Legacy).Select(e => (object)CheckpointRecords.CurrencyProduct(e.Currency, e.Product, e.Measures)).ToArray());
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
                // Chunks after the first carry products only: their currencies' totals are in chunk 0.
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
