using System.Text.Json;
using Confluent.SchemaRegistry;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>
/// Subject names are URL-decoded path segments, as in Confluent's registry: <c>%2F</c> is a
/// '/', on every route that takes a subject, and a literal <c>%2F</c> (sent as <c>%252F</c>) is
/// another subject. Kestrel alone leaves <c>%2F</c> encoded, which only real sockets show.
/// </summary>
public sealed class RegistrySubjectNameTests(RegistryTestServer server) : IClassFixture<RegistryTestServer>
{
    private const string Schema = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EncodedSlash_NamesASubjectWithASlash_OnEveryRoute()
    {
        var name = $"py/slash-{Guid.NewGuid():N}";
        var path = Uri.EscapeDataString(name);

        var registered = await server.PostSchemaAsync($"subjects/{path}/versions", Schema, Cancellation);
        var subjects = await server.SendAsync(HttpMethod.Get, "subjects", (string?)null, Cancellation);
        var versions = await server.SendAsync(HttpMethod.Get, $"subjects/{path}/versions", (string?)null, Cancellation);
        var latest = await server.SendAsync(HttpMethod.Get, $"subjects/{path}/versions/latest", (string?)null, Cancellation);
        var lookup = await server.PostSchemaAsync($"subjects/{path}", Schema, Cancellation);
        var check = await server.PostSchemaAsync($"compatibility/subjects/{path}/versions/latest", Schema, Cancellation);
        var setLevel = await server.SendAsync(HttpMethod.Put, $"config/{path}", """{"compatibility":"FULL"}""", Cancellation);
        var level = await server.SendAsync(HttpMethod.Get, $"config/{path}", (string?)null, Cancellation);
        var deleted = await server.SendAsync(HttpMethod.Delete, $"subjects/{path}", (string?)null, Cancellation);

        Assert.All(new[] { registered, subjects, versions, latest, lookup, check, setLevel, level, deleted }, a => Assert.True(a.Code == 200, a.ToString()));
        Assert.Contains(name, Strings(subjects.Body));
        // Only this test's subject: another test of the class registers a literal a%2Fb on the same registry.
        Assert.DoesNotContain(path, Strings(subjects.Body));
        Assert.Equal(name, JsonDocument.Parse(latest.Body).RootElement.GetProperty("subject").GetString());
        Assert.Equal(name, JsonDocument.Parse(lookup.Body).RootElement.GetProperty("subject").GetString());
        Assert.Equal("FULL", JsonDocument.Parse(level.Body).RootElement.GetProperty("compatibilityLevel").GetString());
    }

    [Fact]
    public async Task LiteralPercent2F_IsAnotherSubjectThanASlash()
    {
        var id = Guid.NewGuid().ToString("N");

        var slash = await server.PostSchemaAsync($"subjects/a%2Fb-{id}/versions", Schema, Cancellation);
        var literal = await server.PostSchemaAsync($"subjects/a%252Fb-{id}/versions", """{"type":"string"}""", Cancellation);
        var subjects = Strings((await server.SendAsync(HttpMethod.Get, "subjects", (string?)null, Cancellation)).Body);

        Assert.Equal((200, 200), (slash.Code, literal.Code));
        Assert.Contains($"a/b-{id}", subjects);
        Assert.Contains($"a%2Fb-{id}", subjects);
        Assert.NotEqual(JsonDocument.Parse(slash.Body).RootElement.GetProperty("id").GetInt32(), JsonDocument.Parse(literal.Body).RootElement.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task ConfluentsClient_SubjectWithASlash_RegistersAndReadsIt()
    {
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = server.Url.ToString() });
        var subject = $"net/slash-{Guid.NewGuid():N}-value";

        var id = await client.RegisterSchemaAsync(subject, new Schema(Schema, SchemaType.Avro));
        var latest = await client.GetLatestSchemaAsync(subject);
        var subjects = await client.GetAllSubjectsAsync();

        Assert.Equal((id, subject), (latest.Id, latest.Subject));
        Assert.Contains(subject, subjects);
    }

    [Fact]
    public async Task PythonsClient_SubjectWithASlash_RegistersItUnderThatName()
    {
        var python = ExternalTool.RequirePythonWithConfluentKafka();
        var subject = $"py/slash-{Guid.NewGuid():N}";
        const string Script = """
            import sys
            from confluent_kafka.schema_registry import SchemaRegistryClient, Schema
            client = SchemaRegistryClient({"url": sys.argv[1]})
            client.register_schema(sys.argv[2], Schema(sys.argv[3], "AVRO"))
            print(client.get_latest_version(sys.argv[2]).subject)
            """;

        var result = ExternalTool.Run(python, ["-c", Script, server.Url.ToString().TrimEnd('/'), subject, Schema], TimeSpan.FromSeconds(60));
        var subjects = Strings((await server.SendAsync(HttpMethod.Get, "subjects", (string?)null, Cancellation)).Body);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(subject, result.StandardOutput.Trim());
        Assert.Contains(subject, subjects);
        Assert.DoesNotContain(subject.Replace("/", "%2F", StringComparison.Ordinal), subjects);
    }

    private static List<string> Strings(string jsonArray) =>
        [.. JsonDocument.Parse(jsonArray).RootElement.EnumerateArray().Select(e => e.GetString()!)];
}
