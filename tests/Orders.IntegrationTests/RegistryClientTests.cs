using Confluent.SchemaRegistry;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>Confluent's own Schema Registry client against our registry, over HTTP.</summary>
[Collection(StackCollection.Name)]
public sealed class RegistryClientTests(StackFixture fixture) : IDisposable
{
    private const string V1 = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"orderId","type":"string"},{"name":"price","type":"float"}]}""";
    private const string V2 = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"orderId","type":"string"},{"name":"price","type":"double"},{"name":"currency","type":"string","default":"EUR"}]}""";
    private const string Incompatible = """{"type":"record","name":"Order","namespace":"shop","fields":[{"name":"orderId","type":"string"},{"name":"customer","type":"string"}]}""";

    private readonly CachedSchemaRegistryClient _client = new(new SchemaRegistryConfig { Url = fixture.RegistryUrl });

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Register_ThenLookupAndGetById_ReturnTheSameSchema()
    {
        var subject = StackFixture.Unique("register") + "-value";

        var id = await _client.RegisterSchemaAsync(subject, new Schema(V1, SchemaType.Avro));
        var lookedUp = await _client.LookupSchemaAsync(subject, new Schema(V1, SchemaType.Avro), ignoreDeletedSchemas: true);
        var byId = await _client.GetSchemaAsync(id);

        Assert.Equal(id, lookedUp.Id);
        Assert.Equal(1, lookedUp.Version);
        Assert.Equal(subject, lookedUp.Subject);
        Assert.Equal(lookedUp.SchemaString, byId.SchemaString);
        Assert.Equal(SchemaType.Avro, byId.SchemaType);
    }

    [Fact]
    public async Task Register_SameSchemaUnderAnotherSubject_GetsTheSameId()
    {
        var id1 = await _client.RegisterSchemaAsync(StackFixture.Unique("a") + "-value", new Schema(V1, SchemaType.Avro));
        var id2 = await _client.RegisterSchemaAsync(StackFixture.Unique("b") + "-value", new Schema(V1, SchemaType.Avro));

        Assert.Equal(id1, id2);
    }

    [Fact]
    public async Task Versions_AndLatest_FollowRegistrations()
    {
        var subject = StackFixture.Unique("versions") + "-value";
        var id1 = await _client.RegisterSchemaAsync(subject, new Schema(V1, SchemaType.Avro));
        var id2 = await _client.RegisterSchemaAsync(subject, new Schema(V2, SchemaType.Avro));

        var versions = await _client.GetSubjectVersionsAsync(subject);
        var latest = await _client.GetLatestSchemaAsync(subject);
        var first = await _client.GetRegisteredSchemaAsync(subject, 1, ignoreDeletedSchemas: true);
        var subjects = await _client.GetAllSubjectsAsync();

        Assert.Equal([1, 2], versions);
        Assert.Equal((id2, 2), (latest.Id, latest.Version));
        Assert.Equal(id1, first.Id);
        Assert.Contains(subject, subjects);
    }

    [Fact]
    public async Task IsCompatible_UnderDefaultBackward_AcceptsDefaultsAndRejectsNewRequiredFields()
    {
        var subject = StackFixture.Unique("compat") + "-value";
        await _client.RegisterSchemaAsync(subject, new Schema(V1, SchemaType.Avro));

        Assert.True(await _client.IsCompatibleAsync(subject, new Schema(V2, SchemaType.Avro)));
        Assert.False(await _client.IsCompatibleAsync(subject, new Schema(Incompatible, SchemaType.Avro)));
        var error = await Assert.ThrowsAsync<SchemaRegistryException>(() => _client.RegisterSchemaAsync(subject, new Schema(Incompatible, SchemaType.Avro)));
        Assert.Equal(409, error.ErrorCode);
    }

    [Fact]
    public async Task Config_PerSubject_OverridesTheGlobalLevel()
    {
        var subject = StackFixture.Unique("config") + "-value";
        await _client.RegisterSchemaAsync(subject, new Schema(V1, SchemaType.Avro));

        var set = await _client.UpdateCompatibilityAsync(Compatibility.None, subject);
        var read = await _client.GetCompatibilityAsync(subject);
        var global = await _client.GetCompatibilityAsync();
        var id = await _client.RegisterSchemaAsync(subject, new Schema(Incompatible, SchemaType.Avro));

        Assert.Equal(Compatibility.None, set);
        Assert.Equal(Compatibility.None, read);
        Assert.Equal(Compatibility.Backward, global);
        Assert.True(id > 0);
    }
}
