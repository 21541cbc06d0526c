
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
/// Bounds the work that judging untrusted schemas may take (compatibility checks, default-value
/// validation), and carries the cancellation of the request that asked for it. One budget is
/// shared by every operation of one request; it is not thread-safe.
/// </summary>
/// <remarks>
/// Every operation here is linear in the size of its schemas; the budget guards against the
/// inputs that are not (e.g. a union of thousands of records that share one unqualified name,
/// where each writer branch may be tried against each reader branch).
/// </remarks>
public sealed class SchemaWorkBudget(long steps, CancellationToken cancellationToken = default)
{
    private long _remaining = steps;

    public long Limit { get; } = steps;

    public long Spent => Limit - _remaining;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    /// <exception cref="SchemaTooComplexException">The budget is spent.</exception>
    /// <exception cref="OperationCanceledException">The request was cancelled.</exception>
    internal void Spend(long steps)
    {
        _remaining -= steps;
        if (_remaining < 0)
        {
            throw new SchemaTooComplexException($"judging this schema takes more than {Limit} steps");
        }

        CancellationToken.ThrowIfCancellationRequested();
    }
}

/// <summary>A schema that is valid but too large or too intricate to judge within the bounds set for it.</summary>
public sealed class SchemaTooComplexException(string message) : Exception(message);

/// <summary>
/// Decides whether data written with one schema can be read with another, following the Avro
/// specification's "Schema Resolution" section as Avro Java's <c>SchemaCompatibility</c>
/// implements it: numeric promotions and string/bytes, record fields matched by name or reader
/// alias with defaults for missing ones, named types matched by unqualified name or alias,
/// enum symbols (or a reader enum default), fixed sizes, and unions branch by branch.
/// Logical types are ignored, as in Avro Java: only the underlying types must resolve.
/// </summary>
/// <remarks>
/// Like Avro Java's <c>ReaderWriterCompatibilityChecker</c>, each (reader, writer) pair of schema
/// nodes is judged once and its verdict remembered, so the work is linear in the number of
/// distinct pairs: schemas that refer to the same named types again and again (a DAG) would
/// otherwise be judged once per path, exponentially many. An incompatibility is reported once, at
/// the first location (in reading order) where its pair occurs; Avro Java repeats it per path.
/// </remarks>
public static class SchemaCompatibility
{
    /// <summary>
    /// Pairs nested deeper than this are refused rather than risk the thread's stack. Inline
    /// definitions cannot nest this deep (the parser allows 256 levels of JSON); only chains of
    /// named references can, which no real schema has.
    /// </summary>
    public const int MaxDepth = 500;

    public static IReadOnlyList<Incompatibility> Check(AvroSchema reader, AvroSchema writer) => Check(reader, writer, budget: null);

    /// <param name="budget">Bounds the work and carries the cancellation; null for unbounded work.</param>
    /// <param name="maxReported">At most this many incompatibilities are returned (the first ones).</param>
    /// <exception cref="SchemaTooComplexException">The budget was spent, or the schemas nest deeper than <see cref="MaxDepth"/>.</exception>
    public static IReadOnlyList<Incompatibility> Check(AvroSchema reader, AvroSchema writer, SchemaWorkBudget? budget, int maxReported = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxReported);
        var verdict = new Checker(budget).Check(reader, writer, depth: 0);
        var found = new List<Incompatibility>();
        if (!verdict.IsCompatible)
        {
            Report(verdict, "", new HashSet<Verdict>(ReferenceEqualityComparer.Instance), found, maxReported);
        }

        return found;
    }

    public static bool CanRead(AvroSchema reader, AvroSchema writer) => new Checker(null).Check(reader, writer, depth: 0).IsCompatible;

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

    /// <summary>Lists a verdict's incompatibilities in reading order, each shared verdict once.</summary>
    /// <returns>False once <paramref name="max"/> incompatibilities are listed.</returns>
    private static bool Report(Verdict verdict, string location, HashSet<Verdict> reported, List<Incompatibility> found, int max)
    {
        foreach (var finding in verdict.Findings!)
        {
            if (finding.Nested is { } nested)
            {
                if (reported.Add(nested) && !Report(nested, location + finding.Location, reported, found, max))
                {
                    return false;
                }
            }
            else
            {
                if (found.Count == max)
                {
                    return false;
                }

                found.Add(new(finding.Type, finding.Message!, location + finding.Location));
            }
        }

        return true;
    }

    /// <summary>The judgement of one (reader, writer) pair: compatible, or what is wrong, here and in nested pairs.</summary>
    private sealed class Verdict
    {
        public static readonly Verdict Compatible = new(null);

        // The marker of a pair being judged: met again below itself, it is assumed compatible, as in Avro Java.
        public static readonly Verdict InProgress = new(null);

        private Verdict(List<Finding>? findings) => Findings = findings;

        /// <summary>Null when compatible, else at least one finding.</summary>
        public List<Finding>? Findings { get; }

        public bool IsCompatible => Findings is null;

        public static Verdict Of(List<Finding>? findings) => findings is null ? Compatible : new Verdict(findings);
    }

    /// <summary>An incompatibility of the pair itself, or an incompatible nested pair, at a location relative to the pair.</summary>
    private readonly record struct Finding(string Location, IncompatibilityType Type, string? Message, Verdict? Nested);

    private sealed class Checker(SchemaWorkBudget? budget)
    {
        // Which reader types can read a writer type (same type or a promotion), in no particular order.
        private static readonly Dictionary<AvroType, AvroType[]> ReadersOf = new()
        {
            [AvroType.Int] = [AvroType.Int, AvroType.Long, AvroType.Float, AvroType.Double],
            [AvroType.Long] = [AvroType.Long, AvroType.Float, AvroType.Double],
            [AvroType.Float] = [AvroType.Float, AvroType.Double],
            [AvroType.String] = [AvroType.String, AvroType.Bytes],
            [AvroType.Bytes] = [AvroType.Bytes, AvroType.String],
        };

        // The locations of the first fields, formatted once: hostile unions can make millions of incompatible pairs.
        private static readonly string[] FieldLocations = [.. Enumerable.Range(0, 64).Select(i => $"/fields/{i}")];
        private static readonly string[] FieldTypeLocations = [.. Enumerable.Range(0, 64).Select(i => $"/fields/{i}/type")];

        private readonly Dictionary<(AvroSchema Reader, AvroSchema Writer), Verdict> _verdicts = new(PairComparer.Instance);

        public Verdict Check(AvroSchema reader, AvroSchema writer, int depth)
        {
            budget?.Spend(1);
            if (_verdicts.TryGetValue((reader, writer), out var known))
            {
                return ReferenceEquals(known, Verdict.InProgress) ? Verdict.Compatible : known;
            }

            if (depth > MaxDepth)
            {
                throw new SchemaTooComplexException($"the schemas nest more than {MaxDepth} levels deep");
            }

            // A backstop for threads with less stack than MaxDepth needs, or already deep in it.
            if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
            {
                throw new SchemaTooComplexException($"the schemas nest too deep for the stack left ({depth} levels)");
            }

            _verdicts[(reader, writer)] = Verdict.InProgress;
            var verdict = Compare(reader, writer, depth);
            _verdicts[(reader, writer)] = verdict;
            return verdict;
        }

        private Verdict Compare(AvroSchema reader, AvroSchema writer, int depth)
        {
            List<Finding>? findings = null;
            if (reader.Type == writer.Type)
            {
                switch (reader)
                {
                    case PrimitiveSchema:
                        break;
                    case ArraySchema ra:
                        Nest(ref findings, "/items", Check(ra.Items, ((ArraySchema)writer).Items, depth + 1));
                        break;
                    case MapSchema rm:
                        Nest(ref findings, "/values", Check(rm.Values, ((MapSchema)writer).Values, depth + 1));
                        break;
                    case FixedSchema rf:
                        var wf = (FixedSchema)writer;
                        CheckNames(rf, wf, ref findings);
                        if (rf.Size != wf.Size)
                        {
                            Add(ref findings, "/size", IncompatibilityType.FixedSizeMismatch, $"expected: {wf.Size}, found: {rf.Size}");
                        }

                        break;
                    case EnumSchema re:
                        var we = (EnumSchema)writer;
                        CheckNames(re, we, ref findings);
                        CheckSymbols(re, we, ref findings);
                        break;
                    case RecordSchema rr:
                        var wr = (RecordSchema)writer;
                        CheckNames(rr, wr, ref findings);
                        CheckFields(rr, wr, depth, ref findings);
                        break;
                    case UnionSchema:
                        CheckWriterBranches(reader, (UnionSchema)writer, depth, ref findings);
                        break;
                }

                return Verdict.Of(findings);
            }

            // Different types. A writer union is readable only if every branch is.
            if (writer is UnionSchema writerUnion)
            {
                CheckWriterBranches(reader, writerUnion, depth, ref findings);
                return Verdict.Of(findings);
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
                    if (!AnyBranchReads((UnionSchema)reader, writer, depth))
                    {
                        Add(ref findings, "", IncompatibilityType.MissingUnionBranch, $"reader union lacking writer type: {Describe(writer)}");
                    }

                    break;
                default:
                    Add(ref findings, "", IncompatibilityType.TypeMismatch,
                        $"reader type: {Describe(reader)} not compatible with writer type: {Describe(writer)}");
                    break;
            }

            return Verdict.Of(findings);
        }

        private void CheckWriterBranches(AvroSchema reader, UnionSchema writer, int depth, ref List<Finding>? findings)
        {
            budget?.Spend(writer.Branches.Count);
            for (var i = 0; i < writer.Branches.Count; i++)
            {
                Nest(ref findings, i, Check(reader, writer.Branches[i], depth + 1));
            }
        }

        /// <summary>
        /// Whether some reader branch reads the writer, trying in branch order only the branches
        /// that can: those of a type the writer's type resolves to and, for named types, of the
        /// writer's unqualified name or with its full name as an alias. Any other branch is a
        /// type or name mismatch, so skipping it changes no verdict.
        /// </summary>
        private bool AnyBranchReads(UnionSchema reader, AvroSchema writer, int depth)
        {
            List<int> candidates = [];
            if (writer is NamedSchema named)
            {
                foreach (var index in reader.IndexesNamed(named.Name).Concat(reader.IndexesAliased(named.FullName)))
                {
                    if (reader.Branches[index].Type == writer.Type)
                    {
                        candidates.Add(index);
                    }
                }
            }
            else
            {
                foreach (var type in ReadersOf.GetValueOrDefault(writer.Type) ?? [writer.Type])
                {
                    if (reader.IndexOfUnnamed(type) is var index and >= 0)
                    {
                        candidates.Add(index);
                    }
                }
            }

            candidates.Sort();
            budget?.Spend(candidates.Count);
            for (var i = 0; i < candidates.Count; i++)
            {
                // A branch found both by name and by alias is tried once.
                if ((i == 0 || candidates[i] != candidates[i - 1]) && Check(reader.Branches[candidates[i]], writer, depth + 1).IsCompatible)
                {
                    return true;
                }
            }

            return false;
        }

        private void CheckFields(RecordSchema reader, RecordSchema writer, int depth, ref List<Finding>? findings)
        {
            budget?.Spend(reader.Fields.Count);
            for (var i = 0; i < reader.Fields.Count; i++)
            {
                var readerField = reader.Fields[i];
                var writerField = LookupWriterField(writer, readerField);
                if (writerField is null)
                {
                    // The reader needs a value the writer never wrote: only a default can supply it.
                    if (!readerField.HasDefault)
                    {
                        Add(ref findings, i < FieldLocations.Length ? FieldLocations[i] : $"/fields/{i}", IncompatibilityType.ReaderFieldMissingDefaultValue, readerField.Name);
                    }
                }
                else
                {
                    var verdict = Check(readerField.Schema, writerField.Schema, depth + 1);
                    if (!verdict.IsCompatible)
                    {
                        Nest(ref findings, i < FieldTypeLocations.Length ? FieldTypeLocations[i] : $"/fields/{i}/type", verdict);
                    }
                }
            }
        }

        private void CheckSymbols(EnumSchema reader, EnumSchema writer, ref List<Finding>? findings)
        {
            // With a default, the reader maps every unknown symbol to it.
            if (reader.Default is not null)
            {
                return;
            }

            budget?.Spend(writer.Symbols.Count);
            var missing = writer.Symbols.Where(s => !reader.HasSymbol(s)).ToList();
            if (missing.Count > 0)
            {
                Add(ref findings, "/symbols", IncompatibilityType.MissingEnumSymbols, $"[{string.Join(", ", missing)}]");
            }
        }

        private static void CheckNames(NamedSchema reader, NamedSchema writer, ref List<Finding>? findings)
        {
            // Avro Java compares unqualified names, then the reader's aliases against the writer's full name.
            if (reader.Name != writer.Name && !reader.HasAlias(writer.FullName))
            {
                Add(ref findings, "/name", IncompatibilityType.NameMismatch, $"expected: {writer.FullName}");
            }
        }

        private static void Add(ref List<Finding>? findings, string location, IncompatibilityType type, string message) =>
            (findings ??= new(capacity: 1)).Add(new Finding(location, type, message, null));

        private static void Nest(ref List<Finding>? findings, string location, Verdict nested)
        {
            if (!nested.IsCompatible)
            {
                (findings ??= new(capacity: 1)).Add(new Finding(location, default, null, nested));
            }
        }

        private static void Nest(ref List<Finding>? findings, int branch, Verdict nested)
        {
            if (!nested.IsCompatible)
            {
                Nest(ref findings, $"/{branch}", nested);
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
