
namespace Orders.Avro;

/// <summary>The kinds of incompatibility, named as Avro Java's <c>SchemaIncompatibilityType</c> names them.</summary>
public enum IncompatibilityType
{
    NameMismatch,
    FixedSizeMismatch,
    MissingEnumSymbols,
    ReaderFieldMissingDefaultValue,
    TypeMismatch,
    MissingUnionBranch,
}

/// <param name="Location">JSON-pointer-like path into the reader schema, e.g. <c>/fields/1/type</c>.</param>
public sealed record Incompatibility(IncompatibilityType Type, string Message, string Location)
{
    public override string ToString() => $"{{type:{Type}, location:{Location}, message:{Message}}}";
}

/// <summary>
/// Decides whether data written with one schema can be read with another, following the Avro
/// specification's "Schema Resolution" section as Avro Java's <c>SchemaCompatibility</c>
/// implements it: numeric promotions and string/bytes, record fields matched by name or reader
/// alias with defaults for missing ones, named types matched by unqualified name or alias,
/// enum symbols (or a reader enum default), fixed sizes, and unions branch by branch.
/// Logical types are ignored, as in Avro Java: only the underlying types must resolve.
/// </summary>
public static class SchemaCompatibility
{
    public static IReadOnlyList<Incompatibility> Check(AvroSchema reader, AvroSchema writer) =>
        new Checker().Check(reader, writer, "");

    public static bool CanRead(AvroSchema reader, AvroSchema writer) => Check(reader, writer).Count == 0;

    /// <summary>
    /// The writer field that supplies a reader field: the one of the same name, else the first
    /// reader alias the writer has. Shared with <see cref="ResolvingReader"/>, so that reading
    /// matches fields exactly as this check does.
    /// </summary>
    internal static AvroField? LookupWriterField(RecordSchema writer, AvroField readerField)
    {
        if (writer.GetField(readerField.Name) is { } direct)
        {
            return direct;
        }

        foreach (var alias in readerField.Aliases)
        {
            if (writer.GetField(alias) is { } aliased)
            {
                return aliased;
            }
        }

        return null;
    }

    private sealed class Checker
    {
        // Recursive records: a pair already being compared is assumed compatible, as in Avro Java.
        private readonly HashSet<(AvroSchema Reader, AvroSchema Writer)> _inProgress = new(PairComparer.Instance);

        public List<Incompatibility> Check(AvroSchema reader, AvroSchema writer, string location)
        {
            if (!_inProgress.Add((reader, writer)))
            {
                return [];
            }

            try
            {
                return Compare(reader, writer, location);
            }
            finally
            {
                _inProgress.Remove((reader, writer));
            }
        }

        private List<Incompatibility> Compare(AvroSchema reader, AvroSchema writer, string location)
        {
            var result = new List<Incompatibility>();
            if (reader.Type == writer.Type)
            {
                switch (reader)
                {
                    case PrimitiveSchema:
                        break;
                    case ArraySchema ra:
                        result.AddRange(Check(ra.Items, ((ArraySchema)writer).Items, $"{location}/items"));
                        break;
                    case MapSchema rm:
                        result.AddRange(Check(rm.Values, ((MapSchema)writer).Values, $"{location}/values"));
                        break;
                    case FixedSchema rf:
                        var wf = (FixedSchema)writer;
                        CheckNames(rf, wf, location, result);
                        if (rf.Size != wf.Size)
                        {
                            result.Add(new(IncompatibilityType.FixedSizeMismatch,
                                $"expected: {wf.Size}, found: {rf.Size}", $"{location}/size"));
                        }

                        break;
                    case EnumSchema re:
                        var we = (EnumSchema)writer;
                        CheckNames(re, we, location, result);
                        var missing = we.Symbols.Where(s => !re.Symbols.Contains(s)).ToList();
                        if (missing.Count > 0 && re.Default is null)
                        {
                            result.Add(new(IncompatibilityType.MissingEnumSymbols,
                                $"[{string.Join(", ", missing)}]", $"{location}/symbols"));
                        }

                        break;
                    case RecordSchema rr:
                        var wr = (RecordSchema)writer;
                        CheckNames(rr, wr, location, result);
                        CheckFields(rr, wr, location, result);
                        break;
                    case UnionSchema:
                        var wu = (UnionSchema)writer;
                        for (var i = 0; i < wu.Branches.Count; i++)
                        {
                            result.AddRange(Check(reader, wu.Branches[i], $"{location}/{i}"));
                        }

                        break;
                }

                return result;
            }

            // Different types. A writer union is readable only if every branch is.
            if (writer is UnionSchema writerUnion)
            {
                for (var i = 0; i < writerUnion.Branches.Count; i++)
                {
                    result.AddRange(Check(reader, writerUnion.Branches[i], $"{location}/{i}"));
                }

                return result;
            }

            switch (reader.Type)
            {
                case AvroType.Long when writer.Type is AvroType.Int:
                case AvroType.Float when writer.Type is AvroType.Int or AvroType.Long:
                case AvroType.Double when writer.Type is AvroType.Int or AvroType.Long or AvroType.Float:
                case AvroType.String when writer.Type is AvroType.Bytes:
                case AvroType.Bytes when writer.Type is AvroType.String:
                    break;
                case AvroType.Union:
                    if (!((UnionSchema)reader).Branches.Any(b => Check(b, writer, location).Count == 0))
                    {
                        result.Add(new(IncompatibilityType.MissingUnionBranch,
                            $"reader union lacking writer type: {Describe(writer)}", location));
                    }

                    break;
                default:
                    result.Add(new(IncompatibilityType.TypeMismatch,
                        $"reader type: {Describe(reader)} not compatible with writer type: {Describe(writer)}", location));
                    break;
            }

            return result;
        }

        private void CheckFields(RecordSchema reader, RecordSchema writer, string location, List<Incompatibility> result)
        {
            for (var i = 0; i < reader.Fields.Count; i++)
            {
                var readerField = reader.Fields[i];
                var writerField = LookupWriterField(writer, readerField);
                if (writerField is null)
                {
                    // The reader needs a value the writer never wrote: only a default can supply it.
                    if (!readerField.HasDefault)
                    {
                        result.Add(new(IncompatibilityType.ReaderFieldMissingDefaultValue,
                            readerField.Name, $"{location}/fields/{i}"));
                    }
                }
                else
                {
                    result.AddRange(Check(readerField.Schema, writerField.Schema, $"{location}/fields/{i}/type"));
                }
            }
        }

        private static void CheckNames(NamedSchema reader, NamedSchema writer, string location, List<Incompatibility> result)
        {
            // Avro Java compares unqualified names, then the reader's aliases against the writer's full name.
            if (reader.Name != writer.Name && !reader.Aliases.Contains(writer.FullName))
            {
                result.Add(new(IncompatibilityType.NameMismatch,
                    $"expected: {writer.FullName}", $"{location}/name"));
            }
        }

        private static string Describe(AvroSchema schema) => schema.Type.ToString().ToUpperInvariant();
    }

    private sealed class PairComparer : IEqualityComparer<(AvroSchema Reader, AvroSchema Writer)>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals((AvroSchema Reader, AvroSchema Writer) x, (AvroSchema Reader, AvroSchema Writer) y) =>
            ReferenceEquals(x.Reader, y.Reader) && ReferenceEquals(x.Writer, y.Writer);

        public int GetHashCode((AvroSchema Reader, AvroSchema Writer) obj) =>
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Reader),
                System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Writer));
    }
}
