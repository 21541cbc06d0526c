using System.Diagnostics;
using Orders.SchemaRegistry.Compatibility;
using Orders.SchemaRegistry.Storage;

namespace Orders.SchemaRegistry.UnitTests;

/// <summary>
/// The store while schemas are judged: reads do not wait for a check, an abandoned check stops,
/// a registration judged against a subject that changed meanwhile is judged again, and every
/// request's work is bounded. The one wall-clock bound (a cancelled check stops) is generous by an
/// order of magnitude (the checks here take seconds), not a performance measurement.
/// </summary>
public sealed class SchemaStoreConcurrencyTests : IDisposable
{
    private const string V1 = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orders-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>
    /// Unions of <paramref name="count"/> records that share the name R (in different namespaces):
    /// every writer branch is tried against every reader branch, and only the last reader branch
    /// (no required field) reads it, so the check takes count² pairs: seconds for 3000.
    /// </summary>
    private static string SameNameUnion(int count, bool reader) =>
        $"[{string.Join(",", Enumerable.Range(0, count).Select(i => reader && i < count - 1
            ? $$"""{"type":"record","name":"R","namespace":"n{{i}}","fields":[{"name":"x","type":"int"}]}"""
            : $$"""{"type":"record","name":"R","namespace":"n{{i}}","fields":[]}"""))}]";

    [Fact]
    public async Task GetSchemaById_WhileACompatibilityCheckRuns_AnswersAtOnce()
    {
        var store = new SchemaStore(workBudget: long.MaxValue);
        var id = store.Register("readers", V1, TestContext.Current.CancellationToken).Id;
        store.Register("unions", SameNameUnion(3000, reader: false), TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource();
        using var judging = new ManualResetEventSlim();
        store.Judging = _ => judging.Set();
        var check = Task.Factory.StartNew(
            () => store.TestCompatibility("unions", "latest", SameNameUnion(3000, reader: true), cancel.Token),
            TestContext.Current.CancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        judging.Wait(TestContext.Current.CancellationToken);

        // Uncancelled, the check takes seconds (9 million pairs); a read takes microseconds. A read
        // that waited for the check would return only after it ended, so the check still running
        // after all of them shows that none waited, with no clock in the assertion.
        for (var i = 0; i < 1000; i++)
        {
            Assert.Contains("\"R\"", store.GetSchemaById(id), StringComparison.Ordinal);
        }

        var stillRunning = !check.IsCompleted;
        await cancel.CancelAsync();

        Assert.True(stillRunning, "the check ended before the reads did, so either a read waited for it or it ran faster than 1000 reads");
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check);
    }

    [Fact]
    public async Task TestCompatibility_Cancelled_StopsWithinMoments()
    {
        var store = new SchemaStore(workBudget: long.MaxValue);
        store.Register("unions", SameNameUnion(3000, reader: false), TestContext.Current.CancellationToken);
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.Run(
            () => store.TestCompatibility("unions", "latest", SameNameUnion(3000, reader: true), cancel.Token), TestContext.Current.CancellationToken));

        // Uncancelled, this check takes several seconds (9 million pairs).
        Assert.InRange(watch.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public void Register_OverTheWorkBudget_Is42201TooComplex()
    {
        var store = new SchemaStore();
        store.Register("unions", SameNameUnion(3000, reader: false), TestContext.Current.CancellationToken);

        var error = Assert.Throws<RegistryException>(() => store.Register("unions", SameNameUnion(3000, reader: true), TestContext.Current.CancellationToken));

        Assert.Equal((422, 42201), (error.HttpStatus, error.ErrorCode));
        Assert.Contains("too complex", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_SubjectChangedWhileJudged_IsJudgedAgainstWhatItIsNow()
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);
        // Reads V1's data (b has a default), but not the data of the version registered meanwhile (b is an int there).
        const string Candidate = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string","default":""}]}""";
        const string Meanwhile = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""";
        var judged = 0;
        store.Judged = subject =>
        {
            if (judged++ == 0)
            {
                store.Register(subject, Meanwhile, TestContext.Current.CancellationToken);
            }
        };

        var error = Assert.Throws<RegistryException>(() => store.Register("s", Candidate, TestContext.Current.CancellationToken));

        Assert.Equal(409, error.HttpStatus);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
        Assert.Equal([1, 2], store.GetVersions("s", includeDeleted: false));
    }

    [Fact]
    public void Register_SameSchemaRegisteredWhileJudged_ReturnsThatVersion()
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);
        const string V2 = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}""";
        SubjectVersion? meanwhile = null;
        var judged = 0;
        store.Judged = subject =>
        {
            if (judged++ == 0)
            {
                meanwhile = store.Register(subject, V2, TestContext.Current.CancellationToken);
            }
        };

        var registered = store.Register("s", V2, TestContext.Current.CancellationToken);

        Assert.Equal(meanwhile, registered);
        Assert.Equal([1, 2], store.GetVersions("s", includeDeleted: false));
    }

    [Fact]
    public void TestCompatibility_HundredsOfIncompatibilities_ListsTheFirstHundredAndSaysSo()
    {
        var store = new SchemaStore();
        string Record(string type) => $$"""{"type":"record","name":"R","fields":[{{string.Join(",", Enumerable.Range(0, 300).Select(i => $$"""{"name":"f{{i}}","type":"{{type}}"}"""))}}]}""";
        store.Register("s", Record("int"), TestContext.Current.CancellationToken);

        var messages = store.TestCompatibility("s", "latest", Record("string"), TestContext.Current.CancellationToken);

        Assert.Equal(SchemaStore.MaxListedIncompatibilities + 1, messages.Count);
        Assert.All(messages.SkipLast(1), m => Assert.Contains("TypeMismatch", m, StringComparison.Ordinal));
        Assert.StartsWith("more incompatibilities were found", messages[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void GetSchemaById_IdSharedBySubjects_StaysReadableUntilTheLastVersionIsGone()
    {
        var store = new SchemaStore();
        var id = store.Register("a", V1, TestContext.Current.CancellationToken).Id;
        store.Register("b", V1, TestContext.Current.CancellationToken);

        store.DeleteSubject("a", permanent: false);
        store.DeleteSubject("a", permanent: true);
        var whileB = store.GetSchemaById(id);
        store.DeleteVersion("b", "1", permanent: false);
        store.DeleteVersion("b", "1", permanent: true);

        Assert.Contains("\"R\"", whileB, StringComparison.Ordinal);
        Assert.Equal(40403, Assert.Throws<RegistryException>(() => store.GetSchemaById(id)).ErrorCode);
    }

    [Fact]
    public async Task DataDirectory_ConcurrentRegistrations_AreAllOnDiskAfterwards()
    {
        var store = new SchemaStore(_dir);
        store.SetGlobalLevel(CompatibilityLevel.None);

        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(
            () => store.Register($"s{i % 4}", $$"""{"type":"record","name":"R{{i}}","fields":[]}""", TestContext.Current.CancellationToken), TestContext.Current.CancellationToken)));

        var reloaded = new SchemaStore(_dir);
        Assert.Equal(["s0", "s1", "s2", "s3"], reloaded.GetSubjects(includeDeleted: false, prefix: null));
        Assert.All(Enumerable.Range(0, 4), s => Assert.Equal(10, reloaded.GetVersions($"s{s}", includeDeleted: false).Count));
        Assert.Equal(CompatibilityLevel.None, reloaded.GetGlobalLevel());
    }
}
