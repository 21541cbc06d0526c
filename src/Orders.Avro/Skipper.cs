namespace Orders.Avro;

/// <summary>
/// Skips one value of a writer schema without materialising it: what a reader does with fields
/// the writer has and it does not. Compiled once per writer schema; recursive records share nodes.
/// </summary>
internal abstract class Skipper
{
    /// <summary>True when a value of this schema always takes zero bytes (null, empty records, fixed of size 0).</summary>
    public abstract bool IsEmpty { get; }

    public abstract void Skip(ref AvroBinaryReader reader);

    public static Skipper For(AvroSchema schema)
    {
        var records = new Dictionary<RecordSchema, RecordSkipper>(ReferenceEqualityComparer.Instance);
        var skipper = For(schema, records);

        // Decided here, single-threaded, so that compiled skippers are immutable when shared.
        foreach (var record in records.Values)
        {
            _ = record.IsEmpty;
        }

        return skipper;
    }

    private static Skipper For(AvroSchema schema, Dictionary<RecordSchema, RecordSkipper> records) => schema switch
    {
        { Type: AvroType.Null } => Nothing.Instance,
        { Type: AvroType.Boolean } => new Raw(1),
        { Type: AvroType.Int or AvroType.Long or AvroType.Enum } => Varint.Instance,
        { Type: AvroType.Float } => new Raw(4),
        { Type: AvroType.Double } => new Raw(8),
        { Type: AvroType.String or AvroType.Bytes } => LengthPrefixed.Instance,
        FixedSchema f => f.Size == 0 ? Nothing.Instance : new Raw(f.Size),
        ArraySchema a => new Blocks(null, For(a.Items, records)),
        MapSchema m => new Blocks(LengthPrefixed.Instance, For(m.Values, records)),
        UnionSchema u => new Union([.. u.Branches.Select(b => For(b, records))]),
        RecordSchema r => Record(r, records),
        _ => throw new ArgumentOutOfRangeException(nameof(schema), schema.Type, "unknown Avro type"),
    };

    private static RecordSkipper Record(RecordSchema record, Dictionary<RecordSchema, RecordSkipper> records)
    {
        if (records.TryGetValue(record, out var existing))
        {
            return existing;
        }

        // Registered before its fields so that a recursive reference finds it.
        var skipper = new RecordSkipper();
        records[record] = skipper;
        skipper.Fields = [.. record.Fields.Select(f => For(f.Schema, records))];
        return skipper;
    }

    private sealed class Nothing : Skipper
    {
        public static readonly Nothing Instance = new();

        public override bool IsEmpty => true;

        public override void Skip(ref AvroBinaryReader reader)
        {
        }
    }

    private sealed class Raw(int size) : Skipper
    {
        public override bool IsEmpty => false;

        public override void Skip(ref AvroBinaryReader reader) => reader.Skip(size);
    }

    private sealed class Varint : Skipper
    {
        public static readonly Varint Instance = new();

        public override bool IsEmpty => false;

        public override void Skip(ref AvroBinaryReader reader) => reader.ReadLong();
    }

    private sealed class LengthPrefixed : Skipper
    {
        public static readonly LengthPrefixed Instance = new();

        public override bool IsEmpty => false;

        public override void Skip(ref AvroBinaryReader reader) => reader.ReadBytes();
    }

    private sealed class Union(Skipper[] branches) : Skipper
    {
        public override bool IsEmpty => false;

        public override void Skip(ref AvroBinaryReader reader) =>
            branches[reader.ReadIndex(branches.Length, "union branch")].Skip(ref reader);
    }

    /// <summary>Arrays and maps: blocks of items, each block a count (negative: followed by its size in bytes).</summary>
    private sealed class Blocks(Skipper? key, Skipper item) : Skipper
    {
        public override bool IsEmpty => false;

        public override void Skip(ref AvroBinaryReader reader)
        {
            while (true)
            {
                var count = reader.ReadLong();
                if (count == 0)
                {
                    return;
                }

                if (count < 0)
                {
                    // The writer gave the block's size: skip it whole.
                    reader.Skip(reader.ReadLong());
                    continue;
                }

                if (key is null && item.IsEmpty)
                {
                    continue;
                }

                // Every item takes at least one byte, so a count beyond the data is a lie, not a loop to run.
                if (count > reader.Remaining)
                {
                    throw new AvroDecodeException($"block of {count} items in {reader.Remaining} remaining bytes");
                }

                for (var i = 0L; i < count; i++)
                {
                    key?.Skip(ref reader);
                    item.Skip(ref reader);
                }
            }
        }
    }

    internal sealed class RecordSkipper : Skipper
    {
        private bool? _isEmpty;
        private bool _deciding;

        public Skipper[] Fields { get; set; } = [];

        public override bool IsEmpty
        {
            get
            {
                if (_isEmpty is { } known)
                {
                    return known;
                }

                // A record met again while deciding (recursion) counts as non-empty: the answer that
                // can only make Blocks stricter, never skip bytes it should have read.
                if (_deciding)
                {
                    return false;
                }

                _deciding = true;
                var empty = Array.TrueForAll(Fields, f => f.IsEmpty);
                _deciding = false;
                _isEmpty = empty;
                return empty;
            }
        }

        public override void Skip(ref AvroBinaryReader reader)
        {
            reader.Enter();
            foreach (var field in Fields)
            {
                field.Skip(ref reader);
            }

            reader.Leave();
        }
    }
}
