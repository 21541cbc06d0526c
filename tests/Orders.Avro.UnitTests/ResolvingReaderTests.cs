using Avro.Generic;
using Avro.IO;
using ApacheSchema = Avro.Schema;

namespace Orders.Avro.UnitTests;

/// <summary>
/// The resolving reader against the compatibility checker and against an encoder no one here
/// wrote (Apache.Avro's generic writer): every pair of the compatibility table, random data.
/// </summary>
public sealed class ResolvingReaderTests
{
    private const string Order = """
        {"type":"record","name":"Order","namespace":"Orders.Contracts","fields":[
          {"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"double"},
          {"name":"customerId","type":"string","default":""},{"name":"quantity","type":"int","default":1},
          {"name":"currency","type":"string","default":"EUR"},{"name":"createdAt","type":{"type":"long","logicalType":"timestamp-millis"},"default":0},
          {"name":"channel","type":"string","default":"unknown"}]}
        """;

    /// <summary>The compatibility table's pairs whose reader is a flat record, or a scalar wrapped as one.</summary>
    public static TheoryData<string, string, string> TablePairs()
    {
        var pairs = new TheoryData<string, string, string>();
        var rows = SchemaCompatibilityTests.Compatible().Select(r => ((ITheoryDataRow)r).GetData())
            .Concat(SchemaCompatibilityTests.Incompatible().Select(r => ((ITheoryDataRow)r).GetData()));
        foreach (var row in rows)
        {
            if (AsReaderRecord((string)row[1]!, (string)row[2]!) is var (reader, writer))
            {
                pairs.Add((string)row[0]!, reader, writer);
            }
        }

        return pairs;
    }

    [Fact]
    public void TablePairs_CoverMostOfTheCompatibilityTable() =>
        Assert.True(TablePairs().Count >= 60, $"only {TablePairs().Count} pairs");

    [Theory]
    [MemberData(nameof(TablePairs))]
    public void TryCreate_AgreesWithTheChecker_AndDecodesApacheAvroData(string description, string readerRecord, string writerSchema)
    {
        var readerSchema = (RecordSchema)AvroSchemaParser.Parse(readerRecord);
        var compatible = SchemaCompatibility.CanRead(readerSchema, AvroSchemaParser.Parse(writerSchema));

        var created = ResolvingReader.TryCreate(readerSchema, AvroSchemaParser.Parse(writerSchema), out var resolving, out var problems);

        Assert.Equal(compatible, created);
        Assert.Equal(compatible, problems.Count == 0);
        if (created)
        {
            AssertDecodesLikeApacheAvro(resolving!, readerRecord, writerSchema, new Random(description.Length));
        }
    }

    public static TheoryData<string, string> OrderWriters() => new()
    {
        { "the same schema", Order },
        { "earliest schema, float price, another namespace", """{"type":"record","name":"Order","namespace":"shop.v1","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""" },
        { "no namespace, int price, reordered", """{"type":"record","name":"Order","fields":[{"name":"price","type":"int"},{"name":"product","type":"bytes"},{"name":"orderId","type":"string"}]}""" },
        { "writer unions and extra nested fields", """{"type":"record","name":"Order","fields":[{"name":"tags","type":{"type":"array","items":{"type":"record","name":"Tag","fields":[{"name":"k","type":"string"},{"name":"v","type":["null","Tag"]}]}}},{"name":"orderId","type":["string","bytes"]},{"name":"product","type":"string"},{"name":"price","type":["int","long","float","double"]},{"name":"quantity","type":["int"]},{"name":"attrs","type":{"type":"map","values":{"type":"fixed","name":"F2","size":2}}},{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}}]}""" },
        { "a top-level union of orders", """[{"type":"record","name":"Order","namespace":"a","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"long"}]},{"type":"record","name":"Order","namespace":"b","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"double"},{"name":"channel","type":"string"}]}]""" },
    };

    [Theory]
    [MemberData(nameof(OrderWriters))]
    public void Read_OrderWriters_GiveTheValuesApacheAvroWrote(string description, string writer)
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse(Order);

        Assert.True(ResolvingReader.TryCreate(reader, AvroSchemaParser.Parse(writer), out var resolving, out var problems), $"{description}: {string.Join("; ", problems)}");

        for (var seed = 0; seed < 20; seed++)
        {
            AssertDecodesLikeApacheAvro(resolving, Order, writer, new Random(seed), compareWithApache: false);
        }
    }

    [Fact]
    public void Read_MissingFields_GetTheReaderDefaults()
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse(Order);
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"Order","fields":[{"name":"orderId","type":"string"},{"name":"product","type":"string"},{"name":"price","type":"float"}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));
        var sink = new RecordingSink(new Dictionary<int, object?>());

        resolving.Read([0x02, (byte)'o', 0x02, (byte)'p', 0, 0, 0x48, 0x41], ref sink);

        Assert.Equal(["o", "p", 12.5, "", 1, "EUR", 0L, "unknown"], Enumerable.Range(0, 8).Select(i => sink.Values[i]));
    }

    [Fact]
    public void Read_ReaderAliasAndSecondReaderField_BothTakeTheWriterField()
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"amount","type":"double","aliases":["price"]},{"name":"price","type":"long"}]}""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"price","type":"int"}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));
        var sink = new RecordingSink(new Dictionary<int, object?>());

        resolving.Read([0x54], ref sink);

        Assert.Equal(((object?)42.0, (object?)42L), (sink.Values[0], sink.Values[1]));
    }

    [Fact]
    public void Read_EnumSymbolTheReaderLacks_GetsTheReaderEnumDefault()
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["UNKNOWN","A"],"default":"UNKNOWN"}}]}""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));
        var sink = new RecordingSink(new Dictionary<int, object?>());

        resolving.Read([0x02], ref sink);

        Assert.Equal(0, sink.Values[0]);
    }

    [Fact]
    public void Read_UnionReader_TakesTheSameTypeBeforeAPromotion()
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"v","type":["null","double","long"]}]}""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"v","type":["null","long","int"]}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));

        Assert.Equal(7L, ReadOne(resolving, [0x02, 0x0e]));
        Assert.Equal(7.0, ReadOne(resolving, [0x04, 0x0e]));
        Assert.Equal("null", ReadOne(resolving, [0x00]));
    }

    public static TheoryData<string, byte[]> HostileData() => new()
    {
        { "data ends early", [0x02] },
        { "varint longer than 10 bytes", [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] },
        { "negative length", [0x01] },
        { "block of", [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, 0x0f] },
        { "bytes left over", [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07] },
        { "union branch index 5", [0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a] },
    };

    [Theory]
    [MemberData(nameof(HostileData))]
    public void Read_HostileData_FailsWithADecodeError(string expected, byte[] data)
    {
        // s: string, d: double, then a writer-only array of unions, skipped.
        var reader = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"d","type":"double"}]}""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"s","type":"string"},{"name":"d","type":"double"},{"name":"x","type":{"type":"array","items":["null","int","string"]}}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));

        var error = Assert.Throws<AvroDecodeException>(() => ReadOne(resolving, data));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_DeeplyNestedRecursiveWriterField_FailsInsteadOfOverflowingTheStack()
    {
        var reader = (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[]}""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"next","type":{"type":"record","name":"Node","fields":[{"name":"n","type":["null","Node"]}]}}]}""");
        Assert.True(ResolvingReader.TryCreate(reader, writer, out var resolving, out _));
        var data = Enumerable.Repeat((byte)0x02, 100_000).Append((byte)0x00).ToArray();

        var error = Assert.Throws<AvroDecodeException>(() => ReadOne(resolving, data));

        Assert.Contains("nested deeper", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryCreate_ReaderWithARecordField_IsNotSupported() =>
        Assert.Throws<NotSupportedException>(() => ResolvingReader.TryCreate(
            (RecordSchema)AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[{"name":"r","type":{"type":"record","name":"S","fields":[]}}]}"""),
            AvroSchemaParser.Parse("""{"type":"record","name":"R","fields":[]}"""),
            out _,
            out _));

    [Fact]
    public void BinaryWriter_Longs_RoundTripAndTakeTheSizeTheySay()
    {
        var random = new Random(3);
        var buffer = new byte[10];
        foreach (var value in new long[] { 0, -1, 1, 63, -64, 64, long.MaxValue, long.MinValue, int.MaxValue, int.MinValue }
            .Concat(Enumerable.Range(0, 2000).Select(_ => random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64))))
        {
            var writer = new AvroBinaryWriter(buffer);
            writer.WriteLong(value);
            var reader = new AvroBinaryReader(buffer.AsSpan(0, writer.Position));

            Assert.Equal(value, reader.ReadLong());
            Assert.Equal(writer.Position, AvroBinaryWriter.SizeOfLong(value));
            Assert.Equal(0, reader.Remaining);
        }
    }

    /// <summary>A reader record and writer schema for a table pair, wrapping scalar pairs as a one-field record.</summary>
    private static (string Reader, string Writer)? AsReaderRecord(string reader, string writer)
    {
        var parsed = AvroSchemaParser.Parse(reader);
        if (parsed is RecordSchema record)
        {
            return record.Fields.All(f => IsScalar(f.Schema)) ? (reader, writer) : null;
        }

        return IsScalar(parsed)
            ? ($$"""{"type":"record","name":"Wrap","fields":[{"name":"f","type":{{reader}}}]}""", $$"""{"type":"record","name":"Wrap","fields":[{"name":"f","type":{{writer}}}]}""")
            : null;
    }

    private static bool IsScalar(AvroSchema schema) => schema is UnionSchema u
        ? u.Branches.All(IsScalar)
        : schema.Type is not (AvroType.Record or AvroType.Array or AvroType.Map);

    /// <summary>
    /// Random data of the writer schema, written by Apache.Avro, must be read to the last byte;
    /// where Apache.Avro's own resolving reader can read it too, the values must be the same.
    /// </summary>
    private static void AssertDecodesLikeApacheAvro(ResolvingReader resolving, string readerJson, string writerJson, Random random, bool compareWithApache = true)
    {
        var writer = ApacheSchema.Parse(writerJson);
        object? datum;
        try
        {
            datum = RandomDatum(writer, random, depth: 0);
        }
        catch (InvalidOperationException)
        {
            return; // A recursive schema with no finite value (Avro Java's LongList): nothing to write.
        }

        using var stream = new MemoryStream();
        new GenericDatumWriter<object?>(writer).Write(datum, new BinaryEncoder(stream));
        var bytes = stream.ToArray();

        var sink = new RecordingSink(new Dictionary<int, object?>());
        resolving.Read(bytes, ref sink);

        Assert.Equal(resolving.Reader.Fields.Count, sink.Values.Count);
        object? expected;
        try
        {
            expected = new GenericDatumReader<object>(writer, ApacheSchema.Parse(readerJson)).Read(null!, new BinaryDecoder(new MemoryStream(bytes)));
        }
        catch (Exception)
        {
            return; // Apache.Avro's reader is stricter than the specification (names, string/bytes).
        }

        if (!compareWithApache)
        {
            return;
        }

        var record = (GenericRecord)expected;
        for (var i = 0; i < resolving.Reader.Fields.Count; i++)
        {
            Assert.Equal(Normalise(record.GetValue(i), resolving.Reader.Fields[i].Schema), sink.Values[i]);
        }
    }

    private static object? Normalise(object? apacheValue, AvroSchema schema) => apacheValue switch
    {
        null => "null",
        GenericEnum e => SymbolIndex(schema, e.Value),
        GenericFixed f => Convert.ToHexString(f.Value),
        DateTime t => (long)(t - DateTime.UnixEpoch).TotalMilliseconds,
        byte[] b => Convert.ToHexString(b),
        _ => apacheValue,
    };

    private static int SymbolIndex(AvroSchema schema, string symbol) => schema switch
    {
        EnumSchema e => e.Symbols.ToList().IndexOf(symbol),
        UnionSchema u => u.Branches.OfType<EnumSchema>().Select(e => e.Symbols.ToList().IndexOf(symbol)).First(i => i >= 0),
        _ => -1,
    };

    private static object? RandomDatum(ApacheSchema schema, Random random, int depth)
    {
        if (depth > 8)
        {
            throw new InvalidOperationException("no finite value");
        }

        return schema switch
        {
            global::Avro.UnionSchema u => RandomDatum(Terminating(u, depth, random), random, depth + 1),
            global::Avro.RecordSchema r => Record(r, random, depth),
            global::Avro.EnumSchema e => new GenericEnum(e, e.Symbols[random.Next(e.Symbols.Count)]),
            global::Avro.FixedSchema f => new GenericFixed(f, RandomBytes(random, f.Size)),
            global::Avro.ArraySchema a => Enumerable.Range(0, random.Next(3)).Select(_ => RandomDatum(a.ItemSchema, random, depth + 1)).ToArray(),
            global::Avro.MapSchema m => Enumerable.Range(0, random.Next(3)).ToDictionary(i => $"k{i}", _ => RandomDatum(m.ValueSchema, random, depth + 1)),
            global::Avro.LogicalSchema { LogicalTypeName: "timestamp-millis" } => DateTime.UnixEpoch.AddMilliseconds(random.NextInt64(0, 1L << 42)),
            global::Avro.LogicalSchema l => RandomDatum(l.BaseSchema, random, depth),
            _ => schema.Tag switch
            {
                ApacheSchema.Type.Null => null,
                ApacheSchema.Type.Boolean => random.Next(2) == 1,
                ApacheSchema.Type.Int => random.Next(-1000, 1000),
                ApacheSchema.Type.Long => random.NextInt64(-1L << 40, 1L << 40),
                ApacheSchema.Type.Float => (float)Math.Round(random.NextDouble() * 100, 2),
                ApacheSchema.Type.Double => Math.Round(random.NextDouble() * 1000, 2),
                ApacheSchema.Type.Bytes => RandomBytes(random, random.Next(6)),
                ApacheSchema.Type.String => $"s{random.Next(1000)}",
                _ => throw new NotSupportedException(schema.Tag.ToString()),
            },
        };
    }

    // Deep down, prefer a union's null branch, so that recursive schemas end.
    private static ApacheSchema Terminating(global::Avro.UnionSchema union, int depth, Random random) =>
        union.Count == 0 ? throw new InvalidOperationException("the empty union has no value")
        : depth > 4 && union.Schemas.FirstOrDefault(s => s.Tag == ApacheSchema.Type.Null) is { } nullBranch ? nullBranch
        : union.Schemas[random.Next(union.Count)];

    private static GenericRecord Record(global::Avro.RecordSchema schema, Random random, int depth)
    {
        var record = new GenericRecord(schema);
        foreach (var field in schema.Fields)
        {
            record.Add(field.Name, RandomDatum(field.Schema, random, depth + 1));
        }

        return record;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        var bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static object? ReadOne(ResolvingReader resolving, byte[] data)
    {
        var sink = new RecordingSink(new Dictionary<int, object?>());
        resolving.Read(data, ref sink);
        return sink.Values.GetValueOrDefault(0);
    }

    /// <summary>Every value as Apache.Avro's generic reader gives it (enums as the reader's index, bytes as hex).</summary>
    private readonly struct RecordingSink(Dictionary<int, object?> values) : IAvroFieldSink
    {
        public Dictionary<int, object?> Values => values;

        public void Null(int field) => values[field] = "null";

        public void Boolean(int field, bool value) => values[field] = value;

        public void Int(int field, int value) => values[field] = value;

        public void Long(int field, long value) => values[field] = value;

        public void Float(int field, float value) => values[field] = value;

        public void Double(int field, double value) => values[field] = value;

        public void String(int field, string value) => values[field] = value;

        public void Utf8String(int field, ReadOnlySpan<byte> value) => values[field] = System.Text.Encoding.UTF8.GetString(value);

        public void Bytes(int field, ReadOnlySpan<byte> value) => values[field] = Convert.ToHexString(value);

        public void Enum(int field, int symbol) => values[field] = symbol;
    }
}
