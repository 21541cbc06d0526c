using System.Globalization;
using Avro;
using Avro.Generic;
using Orders.Processor.Aggregates;

namespace Orders.Processor.Checkpoints;

/// <summary>The nested records of <c>partition-checkpoint.avsc</c> (statistics, minutes, products, currencies) to and from the aggregate's values.</summary>
internal static class CheckpointRecords
{
    private static readonly RecordSchema StatsSchema = (RecordSchema)CheckpointCodec.Schema["overall"].Schema;
    private static readonly RecordSchema MinuteSchema = Items("minutes");
    private static readonly RecordSchema ProductSchema = Items("products");
    private static readonly RecordSchema CurrencySchema = Items("currencies");
    private static readonly RecordSchema CurrencyMinuteSchema = (RecordSchema)((ArraySchema)CurrencySchema["minutes"].Schema).ItemSchema;
    private static readonly RecordSchema CurrencyProductSchema = Items("currencyProducts");

    public static OrderMeasures Measures(GenericRecord record) =>
        new(StatsFrom((GenericRecord)record["price"]), StatsFrom((GenericRecord)record["orderValue"]));

    public static GenericRecord Stats(PriceStatistics stats)
    {
        var record = new GenericRecord(StatsSchema);
        record.Add("count", stats.Count);
        record.Add("sum", stats.Sum.ToString(CultureInfo.InvariantCulture));
        // Doubles on the wire, as the schema has always had them: an amount of up to 15 significant digits (a price
        // with cents, its order value) comes back from the double exactly (decimal's conversion keeps 15 digits).
        record.Add("min", stats.Count == 0 ? 0.0 : (double)stats.Min);
        record.Add("max", stats.Count == 0 ? 0.0 : (double)stats.Max);
        return record;
    }

    public static PriceStatistics StatsFrom(GenericRecord record)
    {
        var count = (long)record["count"];
        var sum = decimal.Parse((string)record["sum"], NumberStyles.Number, CultureInfo.InvariantCulture);
        return count == 0 ? PriceStatistics.Empty : new PriceStatistics(count, sum, (decimal)(double)record["min"], (decimal)(double)record["max"]);
    }

    public static GenericRecord Minute(long minute, PriceStatistics stats) =>
        With(new GenericRecord(MinuteSchema), ("minute", DateTimeOffset.FromUnixTimeMilliseconds(minute).UtcDateTime), ("stats", Stats(stats)));

    public static GenericRecord Product(string product, PriceStatistics stats) =>
        With(new GenericRecord(ProductSchema), ("product", product), ("stats", Stats(stats)));

    public static GenericRecord Currency(string currency, CurrencyData data) => With(
        new GenericRecord(CurrencySchema),
        ("currency", currency),
        ("price", Stats(data.Overall.Price)),
        ("orderValue", Stats(data.Overall.Value)),
        ("minutes", data.Minutes.OrderBy(m => m.Key).Select(m => (object)With(
            new GenericRecord(CurrencyMinuteSchema),
            ("minute", DateTimeOffset.FromUnixTimeMilliseconds(m.Key).UtcDateTime),
            ("price", Stats(m.Value.Price)),
            ("orderValue", Stats(m.Value.Value)))).ToArray()));

    public static GenericRecord CurrencyProduct(string currency, string product, OrderMeasures measures) => With(
        new GenericRecord(CurrencyProductSchema), ("currency", currency), ("product", product), ("price", Stats(measures.Price)), ("orderValue", Stats(measures.Value)));

    private static GenericRecord With(GenericRecord record, params (string Name, object Value)[] fields)
    {
        foreach (var (name, value) in fields)
        {
            record.Add(name, value);
        }

        return record;
    }

    private static RecordSchema Items(string field) => (RecordSchema)((ArraySchema)CheckpointCodec.Schema[field].Schema).ItemSchema;

    // Apache.Avro hands timestamp-millis over as a DateTime; a reader without the logical type sees a long.
    public static long ToUnixMs(object value) => value switch
    {
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
        long ms => ms,
        _ => throw new InvalidCastException($"expected a timestamp, got {value?.GetType().Name ?? "null"}"),
    };
}
