namespace Orders.Avro.UnitTests;

/// <summary>
/// The compatibility checker as it was before it remembered verdicts (it judged a pair once per
/// path to it, exponentially often in a DAG): the reference the memoized checker must agree with.
/// </summary>
internal static class UnmemoizedCompatibility
{
    public static List<Incompatibility> Check(AvroSchema reader, AvroSchema writer) => new Checker().Check(reader, writer, "");

    private sealed class Checker
    {
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
                            result.Add(new(IncompatibilityType.FixedSizeMismatch, $"expected: {wf.Size}, found: {rf.Size}", $"{location}/size"));
                        }

                        break;
                    case EnumSchema re:
                        var we = (EnumSchema)writer;
                        CheckNames(re, we, location, result);
                        var missing = we.Symbols.Where(s => !re.Symbols.Contains(s)).ToList();
                        if (missing.Count > 0 && re.Default is null)
                        {
                            result.Add(new(IncompatibilityType.MissingEnumSymbols, $"[{string.Join(", ", missing)}]", $"{location}/symbols"));
                        }

                        break;
                    case RecordSchema rr:
                        var wr = (RecordSchema)writer;
                        CheckNames(rr, wr, location, result);
                        for (var i = 0; i < rr.Fields.Count; i++)
                        {
                            var readerField = rr.Fields[i];
                            var writerField = SchemaCompatibility.LookupWriterField(wr, readerField);
                            if (writerField is null)
                            {
                                if (!readerField.HasDefault)
                                {
                                    result.Add(new(IncompatibilityType.ReaderFieldMissingDefaultValue, readerField.Name, $"{location}/fields/{i}"));
                                }
                            }
                            else
                            {
                                result.AddRange(Check(readerField.Schema, writerField.Schema, $"{location}/fields/{i}/type"));
                            }
                        }

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
                        result.Add(new(IncompatibilityType.MissingUnionBranch, $"reader union lacking writer type: {Describe(writer)}", location));
                    }

                    break;
                default:
                    result.Add(new(IncompatibilityType.TypeMismatch, $"reader type: {Describe(reader)} not compatible with writer type: {Describe(writer)}", location));
                    break;
            }

            return result;
        }

        private static void CheckNames(NamedSchema reader, NamedSchema writer, string location, List<Incompatibility> result)
        {
            if (reader.Name != writer.Name && !reader.Aliases.Contains(writer.FullName))
            {
                result.Add(new(IncompatibilityType.NameMismatch, $"expected: {writer.FullName}", $"{location}/name"));
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
            HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Reader), System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(obj.Writer));
    }
}
