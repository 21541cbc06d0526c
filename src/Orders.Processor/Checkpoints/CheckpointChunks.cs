using System.Globalization;
using System.Text;
using Orders.Contracts;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>A checkpoint that cannot be written as records the stats topic and the producer accept.</summary>
public sealed class CheckpointTooLargeException(string message) : Exception(message);

/// <summary>
/// How a checkpoint is cut into records of at most a given size, counted in encoded Avro bytes. The
/// header (offsets, the completed ranges above them, dead letters by reason, each currency's
/// totals) goes whole into chunk 0; the entries that grow with the data (per product and per
/// event-time minute, of every currency and of checkpoints from before currencies) are spread over
/// as many chunks as they need. So no chunk outgrows what the topic takes, whatever the number of
/// products or of minutes kept (<c>Processor:WindowMinutes</c> allows a week of them).
/// </summary>
public static class CheckpointChunks
{
    /// <summary>
    /// Room in a record for what is not the Avro value: the record batch header (61 bytes) and the
    /// record's framing, the wire format's 5 bytes, the key (group, partition, checkpoint id, chunk),
    /// and the array block counts the estimate leaves out.
    /// </summary>
    public const int RecordOverheadBytes = 1024;

    /// <summary>The largest Avro value of a chunk, for records of at most <paramref name="recordLimit"/> bytes and keys of this group.</summary>
    public static int ValueLimit(int recordLimit, string group) => recordLimit - RecordOverheadBytes - (2 * Encoding.UTF8.GetByteCount(group));

    /// <summary>What grows with the data: one product's or one minute's figures, of a currency (or of the unsplit data, <see cref="Currency"/> null).</summary>
    internal readonly record struct Entry(string? Currency, string? Product, long Minute, OrderMeasures Measures)
    {
        public bool IsMinute => Product is null;

        /// <summary>The entry's encoded size: exact for its fields, as <see cref="CheckpointRecords"/> writes them.</summary>
        public int Bytes => Currency is null
            ? (IsMinute ? Long(Minute) : String(Product!)) + Stats(Measures.Price)
            : (IsMinute ? Long(Minute) : String(Currency) + String(Product!)) + Stats(Measures.Price) + Stats(Measures.Value);
    }

    /// <summary>Spreads the checkpoint's entries over chunks of at most <paramref name="valueLimit"/> encoded bytes; chunk 0 also holds the header.</summary>
    /// <exception cref="CheckpointTooLargeException">The header alone, or one entry, is larger than <paramref name="valueLimit"/>.</exception>
    internal static List<List<Entry>> Slice(PartitionCheckpoint checkpoint, int valueLimit)
    {
        var header = HeaderBytes(checkpoint);
        if (header > valueLimit)
        {
            throw new CheckpointTooLargeException(
                $"the checkpoint of {checkpoint.Topic}[{checkpoint.Partition}] needs {header:N0} bytes for its offsets, completed ranges and totals alone, " +
                $"more than a record of the stats topic may hold ({valueLimit:N0} bytes of value): raise the topic's max.message.bytes or lower Processor:MaxOutOfOrder");
        }

        var slices = new List<List<Entry>> { new() };
        var used = header;
        // A currency's minutes sit in its record: chunk 0 has one for every currency, a later chunk one for each whose minutes it holds.
        var currencies = checkpoint.Data.Currencies.Keys.ToHashSet(StringComparer.Ordinal);
        foreach (var entry in Entries(checkpoint.Data))
        {
            var size = entry.Bytes + (entry is { IsMinute: true, Currency: { } currency } && !currencies.Contains(currency) ? CurrencyRecordBytes(currency) : 0);
            if (used + size > valueLimit && slices[^1].Count > 0)
            {
                slices.Add([]);
                used = ChunkBaseBytes(checkpoint);
                currencies.Clear();
                size = entry.Bytes + (entry is { IsMinute: true, Currency: { } again } ? CurrencyRecordBytes(again) : 0);
            }

            if (entry is { IsMinute: true, Currency: { } held })
            {
                currencies.Add(held);
            }

            if (used + size > valueLimit)
            {
                throw new CheckpointTooLargeException(
                    $"the checkpoint of {checkpoint.Topic}[{checkpoint.Partition}] has an entry of {size:N0} bytes ({(entry.Product is { } product ? OrderValidator.Quote(product) : "a minute")}), " +
                    $"more than a record of the stats topic may hold ({valueLimit:N0} bytes of value)");
            }

            slices[^1].Add(entry);
            used += size;
        }

        return slices;
    }

    private static IEnumerable<Entry> Entries(AggregateData data)
    {
        foreach (var (currency, values) in data.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            foreach (var (product, measures) in values.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                yield return new Entry(currency, product, 0, measures);
            }

            foreach (var (minute, measures) in values.Minutes.OrderBy(m => m.Key))
            {
                yield return new Entry(currency, null, minute, measures);
            }
        }

        var unsplit = data.Unsplit ?? CurrencyData.Empty;
        foreach (var (product, measures) in unsplit.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            yield return new Entry(null, product, 0, measures);
        }

        foreach (var (minute, measures) in unsplit.Minutes.OrderBy(m => m.Key))
        {
            yield return new Entry(null, null, minute, measures);
        }
    }

    /// <summary>Chunk 0's fields besides the entries: what every chunk has, the dead letters, the completed ranges and every currency's totals.</summary>
    private static int HeaderBytes(PartitionCheckpoint checkpoint)
    {
        var data = checkpoint.Data;
        return ChunkBaseBytes(checkpoint)
            + data.DeadLettered.Sum(d => String(d.Key) + Long(d.Value)) + 2
            + checkpoint.CompletedRanges.Sum(Long) + 2
            + Stats((data.Unsplit ?? CurrencyData.Empty).Overall.Price)
            + data.Currencies.Sum(c => CurrencyRecordBytes(c.Key) + Stats(c.Value.Overall.Price) + Stats(c.Value.Overall.Value)) + 2;
    }

    /// <summary>The fields every chunk carries: ids, offsets, the time, and empty arrays.</summary>
    private static int ChunkBaseBytes(PartitionCheckpoint checkpoint) =>
        String(checkpoint.Group) + String(checkpoint.Topic) + String(checkpoint.CheckpointId)
            + (5 * 3) + (10 * 4) // partition, chunk, chunkCount; nextOffset, deadLetterOffset and deadLetterPartition, writtenAt
            + Long(checkpoint.Data.SkippedByRetention) + Long(checkpoint.Data.LateOrders)
            + Stats(PriceStatistics.Empty) + (6 * 2); // the empty overall; the arrays' and the map's block ends

    /// <summary>A currency's record without its figures and minutes: its name, and its minutes array's block ends.</summary>
    private static int CurrencyRecordBytes(string currency) => String(currency) + 2 + (2 * Stats(PriceStatistics.Empty));

    private static int Stats(PriceStatistics stats) =>
        Long(stats.Count) + String(stats.Sum.ToString(CultureInfo.InvariantCulture)) + 16;

    private static int String(string text)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        return Long(bytes) + bytes;
    }

    private static int Long(long value)
    {
        // Avro writes a long zig-zag encoded, seven bits a byte.
        var zigzag = (ulong)((value << 1) ^ (value >> 63));
        var bytes = 1;
        while ((zigzag >>= 7) != 0)
        {
            bytes++;
        }

        return bytes;
    }
}
