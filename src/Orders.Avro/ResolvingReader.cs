using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Orders.Avro;

/// <summary>
/// Reads data written with one schema (the writer's) as another (the reader's record), by the
/// Avro specification's schema resolution rules. Whether the two resolve at all is decided by
/// <see cref="SchemaCompatibility"/>, the registry's own checker, so the reader accepts exactly
/// the writer schemas the registry calls compatible; what is accepted is then compiled once into
/// a flat plan (per writer field: read and convert into a reader field, or skip), and reading a
/// record is a loop over that plan with no allocation beyond the strings it hands over.
/// </summary>
/// <remarks>
/// The reader record's fields may be of any type but record, array and map (alone or in a
/// union): enough for flat contracts such as <c>order.avsc</c>. The writer's side is unrestricted.
/// </remarks>
public sealed class ResolvingReader
{
    private readonly RecordPlan? _record;
    private readonly RecordPlan[]? _writerUnion;

    private ResolvingReader(RecordSchema reader, AvroSchema writer, RecordPlan? record, RecordPlan[]? writerUnion)
    {
        Reader = reader;
        Writer = writer;
        _record = record;
        _writerUnion = writerUnion;
    }

    public RecordSchema Reader { get; }

    public AvroSchema Writer { get; }

    /// <summary>Compiles the plan, or says why the reader cannot read what the writer wrote.</summary>
    /// <param name="incompatibilities">Empty on success; else <see cref="SchemaCompatibility.Check"/>'s findings.</param>
    /// <exception cref="NotSupportedException">The reader has a field of a type this reader cannot fill.</exception>
    public static bool TryCreate(
        RecordSchema reader,
        AvroSchema writer,
        [NotNullWhen(true)] out ResolvingReader? resolving,
        out IReadOnlyList<Incompatibility> incompatibilities)
    {
        foreach (var field in reader.Fields)
        {
            if (!IsSupportedReaderType(field.Schema))
            {
                throw new NotSupportedException($"reader field \"{field.Name}\" is a {field.Schema.Type}; records, arrays and maps are not supported as reader fields");
            }
        }

        incompatibilities = SchemaCompatibility.Check(reader, writer);
        if (incompatibilities.Count > 0)
        {
            resolving = null;
            return false;
        }

        resolving = writer switch
        {
            RecordSchema record => new ResolvingReader(reader, writer, CompileRecord(reader, record), null),
            UnionSchema union => new ResolvingReader(reader, writer, null, [.. union.Branches.Select(b => CompileRecord(reader, (RecordSchema)b))]),
            _ => throw Unreachable(reader, writer),
        };
        return true;
    }

    /// <summary>Reads one datum that must fill <paramref name="data"/> exactly.</summary>
    /// <exception cref="AvroDecodeException">The bytes are not a datum of the writer's schema.</exception>
    public void Read<TSink>(ReadOnlySpan<byte> data, ref TSink sink)
        where TSink : struct, IAvroFieldSink
    {
        var reader = new AvroBinaryReader(data);
        var plan = _record ?? _writerUnion![reader.ReadIndex(_writerUnion.Length, "union branch")];
        plan.Read(ref reader, ref sink);
        if (reader.Remaining != 0)
        {
            throw new AvroDecodeException($"{reader.Remaining} bytes left over after the record");
        }
    }

    private static bool IsSupportedReaderType(AvroSchema schema) => schema switch
    {
        UnionSchema union => union.Branches.All(IsSupportedReaderType),
        _ => schema.Type is not (AvroType.Record or AvroType.Array or AvroType.Map),
    };

    private static RecordPlan CompileRecord(RecordSchema reader, RecordSchema writer)
    {
        var targets = new List<int>?[writer.Fields.Count];
        var defaults = new List<Default>();
        for (var i = 0; i < reader.Fields.Count; i++)
        {
            var readerField = reader.Fields[i];
            var writerField = SchemaCompatibility.LookupWriterField(writer, readerField);
            if (writerField is null)
            {
                defaults.Add(Default.For(readerField, i));
            }
            else
            {
                (targets[IndexOf(writer, writerField)] ??= []).Add(i);
            }
        }

        var steps = new List<Step>();
        for (var j = 0; j < writer.Fields.Count; j++)
        {
            var writerSchema = writer.Fields[j].Schema;
            switch (targets[j])
            {
                case null:
                    var skipper = Skipper.For(writerSchema);
                    if (!skipper.IsEmpty)
                    {
                        steps.Add(new Step(Op.Skip, -1, skipper));
                    }

                    break;
                case [var target]:
                    steps.Add(CompileValue(reader.Fields[target].Schema, writerSchema, target));
                    break;
                case var several:
                    // Several reader fields (by name and by alias) take the same writer field.
                    steps.Add(new Step(Op.Fork, -1, several.Select(t => CompileValue(reader.Fields[t].Schema, writerSchema, t)).ToArray()));
                    break;
            }
        }

        return new RecordPlan([.. steps], [.. defaults]);
    }

    private static int IndexOf(RecordSchema record, AvroField field)
    {
        for (var i = 0; i < record.Fields.Count; i++)
        {
            if (ReferenceEquals(record.Fields[i], field))
            {
                return i;
            }
        }

        throw new InvalidOperationException($"field {field.Name} is not in {record.FullName}");
    }

    private static Step CompileValue(AvroSchema reader, AvroSchema writer, int target)
    {
        if (writer is UnionSchema writerUnion)
        {
            return new Step(Op.Union, target, writerUnion.Branches.Select(b => CompileValue(reader, b, target)).ToArray());
        }

        if (reader is UnionSchema readerUnion)
        {
            return CompileValue(SelectBranch(readerUnion, writer), writer, target);
        }

        return (reader, writer.Type) switch
        {
            ({ Type: AvroType.Null }, AvroType.Null) => new Step(Op.Null, target),
            ({ Type: AvroType.Boolean }, AvroType.Boolean) => new Step(Op.Boolean, target),
            ({ Type: AvroType.Int }, AvroType.Int) => new Step(Op.IntToInt, target),
            ({ Type: AvroType.Long }, AvroType.Int) => new Step(Op.IntToLong, target),
            ({ Type: AvroType.Float }, AvroType.Int) => new Step(Op.IntToFloat, target),
            ({ Type: AvroType.Double }, AvroType.Int) => new Step(Op.IntToDouble, target),
            ({ Type: AvroType.Long }, AvroType.Long) => new Step(Op.LongToLong, target),
            ({ Type: AvroType.Float }, AvroType.Long) => new Step(Op.LongToFloat, target),
            ({ Type: AvroType.Double }, AvroType.Long) => new Step(Op.LongToDouble, target),
            ({ Type: AvroType.Float }, AvroType.Float) => new Step(Op.FloatToFloat, target),
            ({ Type: AvroType.Double }, AvroType.Float) => new Step(Op.FloatToDouble, target),
            ({ Type: AvroType.Double }, AvroType.Double) => new Step(Op.DoubleToDouble, target),
            ({ Type: AvroType.String }, AvroType.String or AvroType.Bytes) => new Step(Op.String, target),
            ({ Type: AvroType.Bytes }, AvroType.String or AvroType.Bytes) => new Step(Op.Bytes, target),
            (EnumSchema readerEnum, AvroType.Enum) => new Step(Op.Enum, target, SymbolMap(readerEnum, (EnumSchema)writer)),
            (FixedSchema readerFixed, AvroType.Fixed) => new Step(Op.Fixed, target, size: readerFixed.Size),
            _ => throw Unreachable(reader, writer),
        };
    }

    /// <summary>
    /// The reader union's branch for a writer value, as Avro Java picks it: the same type (for
    /// named types the same full name first), then the first branch it can be promoted to.
    /// Only branches the compatibility checker accepts are candidates.
    /// </summary>
    private static AvroSchema SelectBranch(UnionSchema reader, AvroSchema writer)
    {
        var writerName = (writer as NamedSchema)?.FullName;
        foreach (var pass in (ReadOnlySpan<int>)[0, 1, 2])
        {
            foreach (var branch in reader.Branches)
            {
                var candidate = pass switch
                {
                    0 => branch.Type == writer.Type && (branch as NamedSchema)?.FullName == writerName,
                    1 => branch.Type == writer.Type,
                    _ => true,
                };
                if (candidate && SchemaCompatibility.CanRead(branch, writer))
                {
                    return branch;
                }
            }
        }

        throw Unreachable(reader, writer);
    }

    // Hashed: a hostile writer enum of 100,000 symbols would otherwise cost 10^10 comparisons to compile.
    private static int[] SymbolMap(EnumSchema reader, EnumSchema writer)
    {
        var fallback = reader.Default is { } d ? reader.IndexOf(d) : -1;
        return [.. writer.Symbols.Select(s => reader.IndexOf(s) is var i and >= 0 ? i : fallback)];
    }

    private static InvalidOperationException Unreachable(AvroSchema reader, AvroSchema writer) =>
        new($"no resolution from writer {writer.Type} to reader {reader.Type}, although the compatibility check accepted the pair");

    private enum Op : byte
    {
        Skip,
        Null,
        Boolean,
        IntToInt,
        IntToLong,
        IntToFloat,
        IntToDouble,
        LongToLong,
        LongToFloat,
        LongToDouble,
        FloatToFloat,
        FloatToDouble,
        DoubleToDouble,
        String,
        Bytes,
        Enum,
        Fixed,
        Union,
        Fork,
    }

    /// <param name="target">The reader field the value goes to; -1 for none.</param>
    /// <param name="data">Skip: the <see cref="Skipper"/>; Enum: writer-to-reader symbol indexes; Union and Fork: the steps per branch.</param>
    private readonly struct Step(Op op, int target, object? data = null, int size = 0)
    {
        public readonly Op Op = op;
        public readonly int Target = target;
        public readonly int Size = size;
        public readonly object? Data = data;
    }

    private sealed class RecordPlan(Step[] steps, Default[] defaults)
    {
        public void Read<TSink>(ref AvroBinaryReader reader, ref TSink sink)
            where TSink : struct, IAvroFieldSink
        {
            foreach (ref readonly var step in steps.AsSpan())
            {
                // The commonest steps here, without a call per field; the rest (and union branches) in Execute.
                switch (step.Op)
                {
                    case Op.String:
                        sink.Utf8String(step.Target, reader.ReadBytes());
                        break;
                    case Op.LongToLong:
                        sink.Long(step.Target, reader.ReadLong());
                        break;
                    case Op.IntToInt:
                        sink.Int(step.Target, reader.ReadInt());
                        break;
                    case Op.DoubleToDouble:
                        sink.Double(step.Target, reader.ReadDouble());
                        break;
                    default:
                        Execute(in step, ref reader, ref sink);
                        break;
                }
            }

            foreach (ref readonly var value in defaults.AsSpan())
            {
                value.Apply(ref sink);
            }
        }

        private static void Execute<TSink>(in Step step, ref AvroBinaryReader reader, ref TSink sink)
            where TSink : struct, IAvroFieldSink
        {
            switch (step.Op)
            {
                case Op.Skip:
                    ((Skipper)step.Data!).Skip(ref reader);
                    break;
                case Op.Null:
                    sink.Null(step.Target);
                    break;
                case Op.Boolean:
                    sink.Boolean(step.Target, reader.ReadBoolean());
                    break;
                case Op.IntToInt:
                    sink.Int(step.Target, reader.ReadInt());
                    break;
                case Op.IntToLong:
                    sink.Long(step.Target, reader.ReadInt());
                    break;
                case Op.IntToFloat:
                    sink.Float(step.Target, reader.ReadInt());
                    break;
                case Op.IntToDouble:
                    sink.Double(step.Target, reader.ReadInt());
                    break;
                case Op.LongToLong:
                    sink.Long(step.Target, reader.ReadLong());
                    break;
                case Op.LongToFloat:
                    sink.Float(step.Target, reader.ReadLong());
                    break;
                case Op.LongToDouble:
                    sink.Double(step.Target, reader.ReadLong());
                    break;
                case Op.FloatToFloat:
                    sink.Float(step.Target, reader.ReadFloat());
                    break;
                case Op.FloatToDouble:
                    sink.Double(step.Target, reader.ReadFloat());
                    break;
                case Op.DoubleToDouble:
                    sink.Double(step.Target, reader.ReadDouble());
                    break;
                case Op.String:
                    sink.Utf8String(step.Target, reader.ReadBytes());
                    break;
                case Op.Bytes:
                    sink.Bytes(step.Target, reader.ReadBytes());
                    break;
                case Op.Enum:
                    var symbols = (int[])step.Data!;
                    var symbol = symbols[reader.ReadIndex(symbols.Length, "enum symbol")];
                    sink.Enum(step.Target, symbol >= 0 ? symbol : throw new AvroDecodeException("enum symbol unknown to the reader, which has no default"));
                    break;
                case Op.Fixed:
                    sink.Bytes(step.Target, reader.ReadFixed(step.Size));
                    break;
                case Op.Union:
                    var branches = (Step[])step.Data!;
                    Execute(in branches[reader.ReadIndex(branches.Length, "union branch")], ref reader, ref sink);
                    break;
                case Op.Fork:
                    var forks = (Step[])step.Data!;
                    for (var i = 0; i < forks.Length - 1; i++)
                    {
                        // Each reader field reads the same bytes; only the last one moves on.
                        var again = reader;
                        Execute(in forks[i], ref again, ref sink);
                    }

                    Execute(in forks[^1], ref reader, ref sink);
                    break;
                default:
                    throw new InvalidOperationException($"unknown step {step.Op}");
            }
        }
    }

    /// <summary>A reader field the writer does not have: its default, converted once.</summary>
    private readonly struct Default(int target, Op kind, long integer = 0, double real = 0, string? text = null, byte[]? bytes = null)
    {
        public static Default For(AvroField field, int target)
        {
            var value = field.DefaultValue ?? throw new InvalidOperationException($"reader field {field.Name} has no default");

            // A union's default may match any branch (Avro 1.12); the first that it fits decides its type.
            var schema = field.Schema is UnionSchema union
                ? union.Branches.First(b => DefaultValues.IsValid(b, value))
                : field.Schema;
            return schema switch
            {
                { Type: AvroType.Null } => new Default(target, Op.Null),
                { Type: AvroType.Boolean } => new Default(target, Op.Boolean, integer: value.GetBoolean() ? 1 : 0),
                { Type: AvroType.Int } => new Default(target, Op.IntToInt, integer: value.GetInt32()),
                { Type: AvroType.Long } => new Default(target, Op.LongToLong, integer: value.GetInt64()),
                { Type: AvroType.Float } => new Default(target, Op.FloatToFloat, real: Real(value)),
                { Type: AvroType.Double } => new Default(target, Op.DoubleToDouble, real: Real(value)),
                { Type: AvroType.String } => new Default(target, Op.String, text: value.GetString()),
                { Type: AvroType.Bytes or AvroType.Fixed } => new Default(target, Op.Bytes, bytes: Latin1(value.GetString()!)),
                EnumSchema e => new Default(target, Op.Enum, integer: e.IndexOf(value.GetString()!)),
                _ => throw new NotSupportedException($"default of reader field {field.Name} ({schema.Type})"),
            };
        }

        public void Apply<TSink>(ref TSink sink)
            where TSink : struct, IAvroFieldSink
        {
            switch (kind)
            {
                case Op.Null:
                    sink.Null(target);
                    break;
                case Op.Boolean:
                    sink.Boolean(target, integer != 0);
                    break;
                case Op.IntToInt:
                    sink.Int(target, (int)integer);
                    break;
                case Op.LongToLong:
                    sink.Long(target, integer);
                    break;
                case Op.FloatToFloat:
                    sink.Float(target, (float)real);
                    break;
                case Op.DoubleToDouble:
                    sink.Double(target, real);
                    break;
                case Op.String:
                    sink.String(target, text!);
                    break;
                case Op.Bytes:
                    sink.Bytes(target, bytes);
                    break;
                case Op.Enum:
                    sink.Enum(target, (int)integer);
                    break;
                default:
                    throw new InvalidOperationException($"unknown default kind {kind}");
            }
        }

        private static double Real(JsonElement value) => value.ValueKind == JsonValueKind.String
            ? value.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                _ => double.NegativeInfinity,
            }
            : value.GetDouble();

        // The specification encodes bytes defaults as strings whose code points 0-255 are the bytes.
        private static byte[] Latin1(string text) => [.. text.Select(c => (byte)c)];
    }
}
