using System.Diagnostics;

namespace Orders.Avro.UnitTests;

/// <summary>
/// The checker on schemas built to make it slow: shared named types (a DAG), long chains, wide
/// enums and unions. Work is asserted as budget steps where it can be; the few wall-clock
/// bounds are generous by orders of magnitude, against the exponential or quadratic behaviour
/// of the earlier checker, not performance measurements.
/// </summary>
public sealed class SchemaCompatibilityScaleTests
{
    public static TheoryData<string, string, string> TablePairs()
    {
        var pairs = new TheoryData<string, string, string>();
        foreach (var row in SchemaCompatibilityTests.Compatible().Select(r => ((ITheoryDataRow)r).GetData())
            .Concat(SchemaCompatibilityTests.Incompatible().Select(r => ((ITheoryDataRow)r).GetData())))
        {
            pairs.Add((string)row[0]!, (string)row[1]!, (string)row[2]!);
        }

        return pairs;
    }

    [Theory]
    [MemberData(nameof(TablePairs))]
    public void Check_EveryPairOfTheTable_FindsExactlyWhatTheUnmemoizedCheckerFinds(string description, string reader, string writer)
    {
        var (r, w) = (AvroSchemaParser.Parse(reader), AvroSchemaParser.Parse(writer));

        Assert.True(UnmemoizedCompatibility.Check(r, w).SequenceEqual(SchemaCompatibility.Check(r, w)), description);
    }

    [Theory]
    [InlineData(1, "int", "int")]
    [InlineData(3, "long", "int")]
    [InlineData(3, "int", "long")]
    [InlineData(5, "int", "string")]
    [InlineData(6, "double", "float")]
    public void Check_SmallDag_AgreesWithTheUnmemoizedChecker_ReportingEachRepeatedFindingOnce(int depth, string readerLeaf, string writerLeaf)
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Dag(depth, readerLeaf)), AvroSchemaParser.Parse(HostileSchemas.Dag(depth, writerLeaf)));

        var memoized = SchemaCompatibility.Check(reader, writer);
        var reference = UnmemoizedCompatibility.Check(reader, writer);

        Assert.Equal(reference.Count == 0, memoized.Count == 0);
        Assert.Equal(memoized.Count, memoized.Distinct().Count());
        Assert.Subset(reference.ToHashSet(), memoized.ToHashSet());
        Assert.Equal(reference.Select(x => (x.Type, x.Message)).ToHashSet(), memoized.Select(x => (x.Type, x.Message)).ToHashSet());
    }

    [Fact]
    public void Check_DagOfDepth30_JudgesEachPairOnce()
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Dag(30, "long")), AvroSchemaParser.Parse(HostileSchemas.Dag(30, "int")));
        var budget = new SchemaWorkBudget(long.MaxValue);

        var found = SchemaCompatibility.Check(reader, writer, budget);

        Assert.Empty(found);
        // A few steps per level (its pair, three fields, two union branches); unmemoized it was 3^30 paths.
        Assert.InRange(budget.Spent, 30, 30 * 20);
    }

    [Fact]
    public void Check_DagOfDepth30WithAnIncompatibleLeaf_ReportsTheLeafOnceAndEachLevelsUnionOnce()
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Dag(30, "int")), AvroSchemaParser.Parse(HostileSchemas.Dag(30, "long")));

        var found = SchemaCompatibility.Check(reader, writer);

        Assert.Equal(31, found.Count);
        Assert.Equal(new Incompatibility(IncompatibilityType.TypeMismatch, "reader type: INT not compatible with writer type: LONG", string.Concat(Enumerable.Repeat("/fields/0/type", 31))), found[0]);
        Assert.All(found.Skip(1), x => Assert.Equal(IncompatibilityType.MissingUnionBranch, x.Type));
        Assert.Equal(30, found.Skip(1).Select(x => x.Location).Distinct().Count());
    }

    [Fact]
    public void Check_MaxReported_StopsTheListThere()
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Dag(30, "int")), AvroSchemaParser.Parse(HostileSchemas.Dag(30, "long")));

        var found = SchemaCompatibility.Check(reader, writer, budget: null, maxReported: 5);

        Assert.Equal(SchemaCompatibility.Check(reader, writer).Take(5), found);
    }

    [Fact]
    public void Check_BudgetSpent_ThrowsSchemaTooComplex()
    {
        var schema = AvroSchemaParser.Parse(HostileSchemas.Dag(30, "int"));

        var error = Assert.Throws<SchemaTooComplexException>(() => SchemaCompatibility.Check(schema, AvroSchemaParser.Parse(HostileSchemas.Dag(30, "long")), new SchemaWorkBudget(50)));

        Assert.Contains("more than 50 steps", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_CancelledBudget_ThrowsOperationCanceled()
    {
        var schema = AvroSchemaParser.Parse(HostileSchemas.Dag(5));

        Assert.ThrowsAny<OperationCanceledException>(() => SchemaCompatibility.Check(schema, schema, new SchemaWorkBudget(long.MaxValue, new CancellationToken(canceled: true))));
    }

    [Fact]
    public void Check_ChainJustWithinMaxDepth_CompletesOnASmallStack()
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Chain(SchemaCompatibility.MaxDepth - 10, "a")), AvroSchemaParser.Parse(HostileSchemas.Chain(SchemaCompatibility.MaxDepth - 10, "x")));
        IReadOnlyList<Incompatibility>? found = null;
        Exception? failure = null;

        // 1 MiB, less than the 1.5 MiB of the pool threads that serve requests.
        var thread = new Thread(
            () =>
            {
                try
                {
                    found = SchemaCompatibility.Check(reader, writer);
                }
                catch (Exception e)
                {
                    failure = e;
                }
            },
            maxStackSize: 1024 * 1024);
        thread.Start();
        thread.Join();

        Assert.Null(failure);
        Assert.Empty(found!);
    }

    [Fact]
    public void Check_ChainDeeperThanMaxDepth_IsRefusedInsteadOfOverflowingTheStack()
    {
        var (reader, writer) = (AvroSchemaParser.Parse(HostileSchemas.Chain(SchemaCompatibility.MaxDepth + 10, "a")), AvroSchemaParser.Parse(HostileSchemas.Chain(SchemaCompatibility.MaxDepth + 10, "x")));

        var error = Assert.Throws<SchemaTooComplexException>(() => SchemaCompatibility.Check(reader, writer));

        Assert.Contains($"more than {SchemaCompatibility.MaxDepth} levels", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnionOf20000Records_LooksEachWriterBranchUpByName()
    {
        var union = AvroSchemaParser.Parse(HostileSchemas.RecordUnion(20_000));
        var budget = new SchemaWorkBudget(long.MaxValue);

        Assert.Empty(SchemaCompatibility.Check(union, AvroSchemaParser.Parse(HostileSchemas.RecordUnion(20_000)), budget));
        // Trying every reader branch for every writer branch would be 4e8 steps.
        Assert.InRange(budget.Spent, 20_000, 20_000 * 10);
    }

    [Fact]
    public void Check_ReaderBranchesSharingTheWritersName_AreTriedInOrderUntilOneReads()
    {
        var reader = AvroSchemaParser.Parse("""[{"type":"record","name":"R","namespace":"one","fields":[{"name":"x","type":"int"}]},{"type":"record","name":"R","namespace":"two","fields":[]}]""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"R","namespace":"three","fields":[]}""");

        Assert.Empty(SchemaCompatibility.Check(reader, writer));
        Assert.Empty(UnmemoizedCompatibility.Check(reader, writer));
    }

    [Fact]
    public void Check_ReaderBranchWithTheWritersNameAsAlias_Reads()
    {
        var reader = AvroSchemaParser.Parse("""["null",{"type":"enum","name":"Old","symbols":["A"]},{"type":"record","name":"New","aliases":["Old"],"fields":[]}]""");
        var writer = AvroSchemaParser.Parse("""{"type":"record","name":"Old","fields":[]}""");

        Assert.Empty(SchemaCompatibility.Check(reader, writer));
    }

    [Fact]
    public void Check_ReaderUnionWithAPromotableBranch_ReadsTheNarrowerWriterType()
    {
        var reader = AvroSchemaParser.Parse("""["null","string","double"]""");

        Assert.Empty(SchemaCompatibility.Check(reader, AvroSchemaParser.Parse("\"int\"")));
        Assert.Empty(SchemaCompatibility.Check(reader, AvroSchemaParser.Parse("\"bytes\"")));
        Assert.Equal(IncompatibilityType.MissingUnionBranch, Assert.Single(SchemaCompatibility.Check(reader, AvroSchemaParser.Parse("\"boolean\""))).Type);
    }

    [Fact]
    public void Check_EnumsOf100000Symbols_FindsTheOneMissingSymbolQuickly()
    {
        var reader = AvroSchemaParser.Parse(HostileSchemas.Enum(100_000));
        var writer = AvroSchemaParser.Parse(HostileSchemas.Enum(100_000, ",\"Extra\""));
        var stopwatch = Stopwatch.StartNew();

        var found = SchemaCompatibility.Check(reader, writer);

        // Generous: a list search per writer symbol took minutes (10^10 comparisons); a hashed one takes milliseconds.
        Assert.InRange(stopwatch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.Equal(new Incompatibility(IncompatibilityType.MissingEnumSymbols, "[Extra]", "/symbols"), Assert.Single(found));
    }
}
