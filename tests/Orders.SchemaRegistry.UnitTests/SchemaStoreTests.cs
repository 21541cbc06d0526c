using Orders.SchemaRegistry.Compatibility;
using Orders.SchemaRegistry.Storage;

namespace Orders.SchemaRegistry.UnitTests;

public sealed class SchemaStoreTests : IDisposable
{
    private const string V1 = """{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}""";
    private const string V2 = """{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int","default":1}]}""";
    private const string V3NoDefault = """{"type":"record","name":"Order","fields":[{"name":"id","type":"string"},{"name":"qty","type":"int"}]}""";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "orders-store-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    [Fact]
    public void Register_SameSchemaUnderTwoSubjects_SharesOneId()
    {
        var store = new SchemaStore();

        var a = store.Register("a-value", V1, TestContext.Current.CancellationToken);
        var b = store.Register("b-value", V1, TestContext.Current.CancellationToken);

        Assert.Equal(a.Id, b.Id);
        Assert.Equal(1, b.Version);
    }

    [Fact]
    public void Register_SameSchemaTwice_ReturnsExistingVersion()
    {
        var store = new SchemaStore();
        var first = store.Register("s", V1, TestContext.Current.CancellationToken);

        var again = store.Register("s", V1.Replace(",", " ,", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        Assert.Equal(first, again);
        Assert.Equal([1], store.GetVersions("s", includeDeleted: false));
    }

    [Fact]
    public void Register_IncompatibleUnderBackward_Throws409()
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);

        var error = Assert.Throws<RegistryException>(() => store.Register("s", V3NoDefault, TestContext.Current.CancellationToken));

        Assert.Equal(409, error.HttpStatus);
        Assert.Contains("ReaderFieldMissingDefaultValue", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Register_InvalidSchema_Throws42201()
    {
        var error = Assert.Throws<RegistryException>(() => new SchemaStore().Register("s", "{\"type\":\"nope\"}", TestContext.Current.CancellationToken));

        Assert.Equal((422, 42201), (error.HttpStatus, error.ErrorCode));
    }

    [Fact]
    public void DeleteSubject_SoftThenPermanent_FollowsConfluentRules()
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);

        Assert.Equal(40405, Assert.Throws<RegistryException>(() => store.DeleteSubject("s", permanent: true)).ErrorCode);
        Assert.Equal([1], store.DeleteSubject("s", permanent: false));
        Assert.Equal(40404, Assert.Throws<RegistryException>(() => store.DeleteSubject("s", permanent: false)).ErrorCode);
        Assert.Empty(store.GetSubjects(includeDeleted: false, prefix: null));
        Assert.Equal(["s"], store.GetSubjects(includeDeleted: true, prefix: null));
        Assert.Equal([1], store.DeleteSubject("s", permanent: true));
        Assert.Empty(store.GetSubjects(includeDeleted: true, prefix: null));
    }

    [Fact]
    public void GetSchemaById_SoftDeletedVersion_StaysReadable()
    {
        var store = new SchemaStore();
        var registered = store.Register("s", V1, TestContext.Current.CancellationToken);
        store.DeleteSubject("s", permanent: false);

        Assert.Contains("Order", store.GetSchemaById(registered.Id), StringComparison.Ordinal);

        store.DeleteSubject("s", permanent: true);
        Assert.Equal(40403, Assert.Throws<RegistryException>(() => store.GetSchemaById(registered.Id)).ErrorCode);
    }

    [Fact]
    public void DeleteVersion_SoftDeletedLatest_IsSkippedByCompatibility()
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);
        store.Register("s", V2, TestContext.Current.CancellationToken);
        store.DeleteVersion("s", "2", permanent: false);

        Assert.Equal(40406, Assert.Throws<RegistryException>(() => store.DeleteVersion("s", "2", permanent: false)).ErrorCode);
        Assert.Equal(1, store.GetVersion("s", "latest", includeDeleted: false).Version);
        Assert.Equal(2, store.GetVersion("s", "latest", includeDeleted: true).Version);
        Assert.Equal(3, store.Register("s", V2, TestContext.Current.CancellationToken).Version);
    }

    [Theory]
    [InlineData("a\nb")]
    [InlineData("tab\there")]
    [InlineData("c1\u0085")]
    [InlineData("__GLOBAL")]
    [InlineData("__EMPTY")]
    public void ASubjectConfluentRefuses_CannotTakeASchemaOrALevel_42208(string subject)
    {
        var store = new SchemaStore();

        Assert.Equal(42208, Assert.Throws<RegistryException>(() => store.Register(subject, V1, TestContext.Current.CancellationToken)).ErrorCode);
        Assert.Equal(42208, Assert.Throws<RegistryException>(() => store.SetSubjectLevel(subject, CompatibilityLevel.Full)).ErrorCode);
        Assert.Empty(store.GetSubjects(includeDeleted: true, prefix: null));
    }

    [Theory]
    [InlineData("LATEST", 2)]
    [InlineData(" latest ", 2)]
    [InlineData("-1", 2)]
    [InlineData("+1", 1)]
    [InlineData(" 1", 1)]
    [InlineData("01", 1)]
    [InlineData("-01", 2)]
    public void GetVersion_ReadsTheVersionAsConfluentDoes(string version, int expected)
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);
        store.Register("s", V2, TestContext.Current.CancellationToken);

        Assert.Equal(expected, store.GetVersion("s", version, includeDeleted: false).Version);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("+")]
    [InlineData("1 2")]
    [InlineData("abc")]
    [InlineData("1.5")]
    [InlineData("-2")]
    [InlineData("2147483648")]
    public void GetVersion_InvalidVersion_Throws42202(string version)
    {
        var store = new SchemaStore();
        store.Register("s", V1, TestContext.Current.CancellationToken);

        Assert.Equal(42202, Assert.Throws<RegistryException>(() => store.GetVersion("s", version, includeDeleted: false)).ErrorCode);
    }

    [Fact]
    public void DataDirectory_Restart_KeepsIdsVersionsAndConfig()
    {
        var first = new SchemaStore(_dir);
        var v1 = first.Register("s", V1, TestContext.Current.CancellationToken);
        first.Register("other", V2, TestContext.Current.CancellationToken);
        first.SetSubjectLevel("s", CompatibilityLevel.Full);
        first.SetGlobalLevel(CompatibilityLevel.None);
        first.DeleteSubject("other", permanent: false);

        var second = new SchemaStore(_dir);

        Assert.Equal(v1, second.GetVersion("s", "1", includeDeleted: false));
        Assert.Equal(CompatibilityLevel.Full, second.GetSubjectLevel("s", defaultToGlobal: false));
        Assert.Equal(CompatibilityLevel.None, second.GetGlobalLevel());
        Assert.Equal(["s"], second.GetSubjects(includeDeleted: false, prefix: null));
        Assert.Equal(3, second.Register("third", V3NoDefault, TestContext.Current.CancellationToken).Id);
        Assert.False(File.Exists(Path.Combine(_dir, "schemas.json.tmp")));
    }

    [Fact]
    public void DataDirectory_WhereTheStateCannotBeWritten_IsRefusedAtStart_NotAtTheFirstRegistration()
    {
        // Its state file a folder: every write would fail, and each registration live in memory only.
        Directory.CreateDirectory(Path.Combine(_dir, "schemas.json"));

        var error = Record.Exception(() => new SchemaStore(_dir));

        Assert.True(error is IOException or UnauthorizedAccessException, $"{error?.GetType().Name}: {error?.Message}");
    }

    [Fact]
    public void DataDirectory_ARegistrationWhoseWriteFailed_IsNotAcknowledgedOnItsRetry_UntilItIsWritten()
    {
        var store = new SchemaStore(_dir);
        var state = Path.Combine(_dir, "schemas.json");
        File.Delete(state);
        Directory.CreateDirectory(state);

        Assert.ThrowsAny<IOException>(() => store.Register("s", V1, TestContext.Current.CancellationToken));
        // The retry finds it in memory: before, that was a 200 for a schema no restart would know.
        Assert.ThrowsAny<IOException>(() => store.Register("s", V1, TestContext.Current.CancellationToken));

        Directory.Delete(state);
        var registered = store.Register("s", V1, TestContext.Current.CancellationToken);

        Assert.Equal(registered, new SchemaStore(_dir).GetVersion("s", "1", includeDeleted: false));
    }

    public static TheoryData<string, string> BadStateFiles() => new()
    {
        { """{"schemas":null}""", "must not be null" },
        { """{"schemas":[null]}""", "each schema needs an id of 1 or more and its schema text" },
        { """{"schemas":[{"id":1,"schema":null}]}""", "each schema needs an id of 1 or more and its schema text" },
        { """{"schemas":[{"id":0,"schema":"\"string\""}]}""", "each schema needs an id of 1 or more and its schema text" },
        { """{"schemas":[{"id":1,"schema":"garbage"}]}""", "schema 1 is not valid Avro" },
        { """{"schemas":[{"id":1}]}""", "schema 1 is not valid Avro" },
        { """{"schemas":[{"id":1,"schema":"\"string\""},{"id":1,"schema":"\"long\""}]}""", "schema id 1 appears twice" },
        { """{"subjects":[{"subject":"x","versions":null}]}""", "each subject needs a name and a list of versions" },
        { """{"subjects":[{"subject":"x","versions":[{"version":1,"id":99}]}]}""", "version 1 of subject x names schema id 99, which the file does not hold" },
        { """{"schemas":[{"id":1,"schema":"\"string\""}],"subjects":[{"subject":"x","versions":[{"version":1,"id":1},{"version":1,"id":1}]}]}""", "subject x has a missing, duplicate or non-positive version" },
        { """{"schemas":[{"id":1,"schema":"\"string\""}],"subjects":[{"subject":"x","versions":[]},{"subject":"x","versions":[]}]}""", "subject x appears twice" },
        { """{"subjectCompatibility":{"x":"SOMETIMES"}}""", "subject x has an unknown compatibility level \"SOMETIMES\"" },
        { """{"globalCompatibility":null}""", "unknown global compatibility level" },
    };

    [Theory]
    [MemberData(nameof(BadStateFiles))]
    public void DataDirectory_AStateFileThisStoreCouldNotHaveWritten_IsRefusedAtStart_SayingWhy(string content, string why)
    {
        Directory.CreateDirectory(_dir);
        File.WriteAllText(Path.Combine(_dir, "schemas.json"), content);

        var error = Assert.Throws<InvalidDataException>(() => new SchemaStore(_dir));

        Assert.StartsWith($"{Path.Combine(_dir, "schemas.json")} is not a valid registry state file: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }
}
