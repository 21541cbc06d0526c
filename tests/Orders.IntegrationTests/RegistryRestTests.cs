using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Orders.IntegrationTests.Infrastructure;

namespace Orders.IntegrationTests;

/// <summary>The registry's REST API over HTTP: level semantics, deletes, and bad input on every endpoint.</summary>
[Collection(StackCollection.Name)]
public sealed class RegistryRestTests(StackFixture fixture) : IDisposable
{
    private const string MediaType = "application/vnd.schemaregistry.v1+json";
    private const string V1 = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}""";
    private const string V2 = """{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"int"}]}""";
    private const string V3 = """{"type":"record","name":"R","fields":[{"name":"b","type":"int"}]}""";

    private readonly HttpClient _http = new() { BaseAddress = new Uri(fixture.RegistryUrl + "/") };

    public void Dispose() => _http.Dispose();

    public static TheoryData<string, string, bool> LevelCases() => new()
    {
        // History v1 {a}, v2 {a=0, b}; candidate v3 {b}: reads v2 data, not v1 data; v2 reads its data, v1 does not.
        { "BACKWARD", V3, true },
        { "BACKWARD_TRANSITIVE", V3, false },
        { "FORWARD", V3, true },
        { "FORWARD_TRANSITIVE", V3, false },
        { "FULL", V3, true },
        { "FULL_TRANSITIVE", V3, false },
        { "NONE", """{"type":"string"}""", true },
        { "BACKWARD", """{"type":"string"}""", false },
    };

    [Theory]
    [MemberData(nameof(LevelCases))]
    public async Task Register_UnderEachLevel_AcceptsOrRejectsAsTheLevelSays(string level, string candidate, bool accepted)
    {
        var subject = StackFixture.Unique("level");
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = level }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1 }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = "NONE" }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V2 }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = level }, HttpStatusCode.OK);

        var check = await SendAsync(HttpMethod.Post, $"compatibility/subjects/{subject}/versions?verbose=true", new { schema = candidate }, HttpStatusCode.OK);
        var (status, body) = await SendRawAsync(HttpMethod.Post, $"subjects/{subject}/versions", JsonSerializer.Serialize(new { schema = candidate }));

        Assert.Equal(accepted, check.GetProperty("is_compatible").GetBoolean());
        Assert.Equal(accepted ? HttpStatusCode.OK : HttpStatusCode.Conflict, status);
        if (!accepted)
        {
            Assert.Equal(409, JsonDocument.Parse(body).RootElement.GetProperty("error_code").GetInt32());
            Assert.NotEmpty(check.GetProperty("messages").EnumerateArray());
        }
    }

    [Fact]
    public async Task CompatibilityAgainstOneVersion_IgnoresOthers()
    {
        var subject = StackFixture.Unique("oneversion");
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = "NONE" }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1 }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V2 }, HttpStatusCode.OK);
        await SendAsync(HttpMethod.Put, $"config/{subject}", new { compatibility = "BACKWARD_TRANSITIVE" }, HttpStatusCode.OK);

        var against2 = await SendAsync(HttpMethod.Post, $"compatibility/subjects/{subject}/versions/2", new { schema = V3 }, HttpStatusCode.OK);
        var against1 = await SendAsync(HttpMethod.Post, $"compatibility/subjects/{subject}/versions/1", new { schema = V3 }, HttpStatusCode.OK);

        Assert.True(against2.GetProperty("is_compatible").GetBoolean());
        Assert.False(against1.GetProperty("is_compatible").GetBoolean());
    }

    [Fact]
    public async Task Delete_SoftAndPermanent_ForVersionsAndSubjects()
    {
        var subject = StackFixture.Unique("delete");
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1 }, HttpStatusCode.OK);
        var withDefault = """{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"c","type":"int","default":1}]}""";
        var id2 = (await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = withDefault }, HttpStatusCode.OK)).GetProperty("id").GetInt32();

        await ExpectErrorAsync(HttpMethod.Delete, $"subjects/{subject}/versions/2?permanent=true", null, HttpStatusCode.NotFound, 40407);
        Assert.Equal(2, (await SendAsync(HttpMethod.Delete, $"subjects/{subject}/versions/2", null, HttpStatusCode.OK)).GetInt32());
        await ExpectErrorAsync(HttpMethod.Delete, $"subjects/{subject}/versions/2", null, HttpStatusCode.NotFound, 40406);
        await ExpectErrorAsync(HttpMethod.Get, $"subjects/{subject}/versions/2", null, HttpStatusCode.NotFound, 40402);
        Assert.Equal(2, (await SendAsync(HttpMethod.Get, $"subjects/{subject}/versions/2?deleted=true", null, HttpStatusCode.OK)).GetProperty("version").GetInt32());
        await SendAsync(HttpMethod.Get, $"schemas/ids/{id2}", null, HttpStatusCode.OK);
        Assert.Equal(2, (await SendAsync(HttpMethod.Delete, $"subjects/{subject}/versions/2?permanent=true", null, HttpStatusCode.OK)).GetInt32());

        await ExpectErrorAsync(HttpMethod.Delete, $"subjects/{subject}?permanent=true", null, HttpStatusCode.NotFound, 40405);
        Assert.Equal([1], (await SendAsync(HttpMethod.Delete, $"subjects/{subject}", null, HttpStatusCode.OK)).EnumerateArray().Select(e => e.GetInt32()));
        await ExpectErrorAsync(HttpMethod.Delete, $"subjects/{subject}", null, HttpStatusCode.NotFound, 40404);
        await ExpectErrorAsync(HttpMethod.Get, $"subjects/{subject}/versions", null, HttpStatusCode.NotFound, 40401);
        Assert.Equal([1], (await SendAsync(HttpMethod.Delete, $"subjects/{subject}?permanent=true", null, HttpStatusCode.OK)).EnumerateArray().Select(e => e.GetInt32()));
        await ExpectErrorAsync(HttpMethod.Get, $"subjects/{subject}/versions?deleted=true", null, HttpStatusCode.NotFound, 40401);
    }

    public static TheoryData<string, string, string?, int, int> BadInput() => new()
    {
        // method, path, body, HTTP status, error_code
        { "POST", "subjects/{s}/versions", "{not json", 400, 400 },
        { "POST", "subjects/{s}/versions", "[1,2]", 422, 422 },
        { "POST", "subjects/{s}/versions", "\"just a string\"", 422, 422 },
        { "POST", "subjects/{s}/versions", "", 400, 400 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\"}","surprise":1}""", 422, 422 },
        { "POST", "subjects/{s}/versions", """{"schema":42}""", 422, 422 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\"}","references":"none"}""", 422, 422 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\"}","schemaType":"PROTOBUF"}""", 422, 42201 },
        { "POST", "subjects/{s}/versions", """{"schemaType":"AVRO"}""", 422, 42201 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"recordz\"}"}""", 422, 42201 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":\"x\"}]}"}""", 422, 42201 },
        { "POST", "subjects/{s}/versions", """{"schema":"not json at all"}""", 422, 42201 },
        { "POST", "subjects/{s}/versions?normalize=maybe", """{"schema":"\"int\""}""", 400, 400 },
        { "POST", "subjects/{s}", "{oops", 400, 400 },
        { "POST", "subjects/{s}", """{"schema":"\"int\""}""", 404, 40401 },
        { "POST", "subjects/{s}", """{"schema":false}""", 422, 422 },
        { "GET", "subjects/{s}/versions", null, 404, 40401 },
        { "GET", "subjects/{s}/versions?deleted=yes", null, 400, 400 },
        { "GET", "subjects/{s}/versions/latest", null, 404, 40401 },
        { "GET", "subjects/{s}/versions/abc", null, 422, 42202 },
        { "GET", "subjects/{s}/versions/0", null, 422, 42202 },
        { "GET", "subjects/{s}/versions/99999999999", null, 422, 42202 },
        { "GET", "subjects/{s}/versions/1/schema", null, 404, 40401 },
        { "GET", "subjects/{s}/versions/x/referencedby", null, 422, 42202 },
        { "DELETE", "subjects/{s}", null, 404, 40401 },
        { "DELETE", "subjects/{s}?permanent=perhaps", null, 400, 400 },
        { "DELETE", "subjects/{s}/versions/1", null, 404, 40401 },
        { "DELETE", "subjects/{s}/versions/one", null, 422, 42202 },
        { "GET", "schemas/ids/999999", null, 404, 40403 },
        { "GET", "schemas/ids/abc", null, 404, 40403 },
        { "GET", "schemas/ids/-1", null, 404, 40403 },
        { "GET", "schemas/ids/999999/versions", null, 404, 40403 },
        { "GET", "schemas/ids/abc/subjects", null, 404, 40403 },
        { "GET", "schemas/ids/1/versions?deleted=sometimes", null, 400, 400 },
        { "GET", "subjects?deleted=maybe", null, 400, 400 },
        { "GET", "config/{s}?defaultToGlobal=perhaps", null, 400, 400 },
        { "PUT", "config", """{"compatibility":"FULL","surprise":true}""", 422, 422 },
        { "PUT", "mode", """{"mode":"READONLY"}""", 405, 405 },
        { "POST", "compatibility/subjects/{s}/versions/latest", """{"schema":"\"int\""}""", 404, 40401 },
        { "POST", "compatibility/subjects/{s}/versions/nope", """{"schema":"\"int\""}""", 422, 42202 },
        { "POST", "compatibility/subjects/{s}/versions", "{]", 400, 400 },
        { "POST", "compatibility/subjects/{s}/versions", """{"schema":"{\"type\":\"map\"}"}""", 422, 42201 },
        { "PUT", "config", """{"compatibility":"SIDEWAYS"}""", 422, 42203 },
        { "PUT", "config", """{"compatibility":7}""", 422, 422 },
        { "PUT", "config", """{"level":"FULL"}""", 422, 422 },
        { "PUT", "config", "{", 400, 400 },
        { "PUT", "config/{s}", """{"compatibility":"backwards"}""", 422, 42203 },
        { "PUT", "config/{s}", "[]", 422, 422 },
        { "GET", "config/{s}", null, 404, 40408 },
        { "DELETE", "config/{s}", null, 404, 40408 },
        { "POST", "subjects/{s}/versions", """{"schema":"{\"type\":{\"type\":\"string\"}}"}""", 422, 42201 },
        { "GET", "mode/{s}", null, 404, 40409 },
        { "POST", "subjects/{s}/versions", """{"schema":"\"int\"","id":100}""", 422, 42205 },
        { "POST", "subjects/{s}/versions", """{"schema":"\"int\"","id":0}""", 422, 42205 },
        { "POST", "subjects/a%0A{s}/versions", """{"schema":"\"int\""}""", 422, 42208 },
        { "POST", "subjects/__GLOBAL/versions", """{"schema":"\"int\""}""", 422, 42208 },
        { "PUT", "config/c%01{s}", """{"compatibility":"FULL"}""", 422, 42208 },
        { "GET", "no/such/endpoint", null, 404, 404 },
        { "PATCH", "subjects", null, 405, 405 },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task BadInput_GetsAPrecise4xxErrorJson(string method, string path, string? body, int status, int errorCode)
    {
        var subject = StackFixture.Unique("bad");

        await ExpectErrorAsync(new HttpMethod(method), path.Replace("{s}", subject, StringComparison.Ordinal), body, (HttpStatusCode)status, errorCode);
    }

    [Fact]
    public async Task Register_WithoutAnIdOfItsOwn_OrWithTheNoIdValue_AssignsOne()
    {
        var subject = StackFixture.Unique("noid");

        var first = await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1, id = -1 }, HttpStatusCode.OK);
        var again = await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1, id = (int?)null }, HttpStatusCode.OK);

        Assert.True(first.GetProperty("id").GetInt32() > 0);
        Assert.Equal(first.GetProperty("id").GetInt32(), again.GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task BodyOverOneMebibyte_Gets413()
    {
        var huge = JsonSerializer.Serialize(new { schema = new string('x', 1024 * 1024) });

        await ExpectErrorAsync(HttpMethod.Post, $"subjects/{StackFixture.Unique("huge")}/versions", huge, HttpStatusCode.RequestEntityTooLarge, 413);
    }

    [Fact]
    public async Task UnsupportedMediaType_Gets415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"subjects/{StackFixture.Unique("media")}/versions")
        {
            Content = new StringContent("schema=int", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(415, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("error_code").GetInt32());
    }

    [Fact]
    public async Task Versions_ReadAsConfluentReadsThem_ReferencedByFindsASoftDeletedVersion_AndASubjectsModeIsTheGlobalOneWhenAskedFor()
    {
        var subject = StackFixture.Unique("confluent");
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1 }, HttpStatusCode.OK);

        Assert.Equal(1, (await SendAsync(HttpMethod.Get, $"subjects/{subject}/versions/LATEST", null, HttpStatusCode.OK)).GetProperty("version").GetInt32());
        Assert.Equal(1, (await SendAsync(HttpMethod.Get, $"subjects/{subject}/versions/+1", null, HttpStatusCode.OK)).GetProperty("version").GetInt32());
        await SendAsync(HttpMethod.Delete, $"subjects/{subject}/versions/1", null, HttpStatusCode.OK);
        Assert.Empty((await SendAsync(HttpMethod.Get, $"subjects/{subject}/versions/1/referencedby", null, HttpStatusCode.OK)).EnumerateArray());
        Assert.Equal("READWRITE", (await SendAsync(HttpMethod.Get, $"mode/{subject}?defaultToGlobal=true", null, HttpStatusCode.OK)).GetProperty("mode").GetString());
    }

    [Fact]
    public async Task Head_AnswersAsGetWouldWithoutABody_AsJerseyDoes()
    {
        var subject = StackFixture.Unique("head");
        await SendAsync(HttpMethod.Post, $"subjects/{subject}/versions", new { schema = V1 }, HttpStatusCode.OK);

        using var askFound = new HttpRequestMessage(HttpMethod.Head, $"subjects/{subject}/versions/latest");
        using var askMissing = new HttpRequestMessage(HttpMethod.Head, $"subjects/{subject}-none/versions");
        using var found = await _http.SendAsync(askFound, TestContext.Current.CancellationToken);
        using var missing = await _http.SendAsync(askMissing, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal(MediaType, found.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await found.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Empty(await missing.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Associations_AnswerNotFound_SoClientsFallBackToTopicNaming()
    {
        await ExpectErrorAsync(HttpMethod.Get, "associations/resources/-/orders?resourceType=topic&associationType=value", null, HttpStatusCode.NotFound, 40401);
    }

    private async Task ExpectErrorAsync(HttpMethod method, string path, string? body, HttpStatusCode status, int errorCode)
    {
        var (actualStatus, text) = await SendRawAsync(method, path, body);

        Assert.True(status == actualStatus, $"{method} {path}: expected {(int)status}, got {(int)actualStatus}: {text}");
        using var json = JsonDocument.Parse(text);
        Assert.Equal(errorCode, json.RootElement.GetProperty("error_code").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(json.RootElement.GetProperty("message").GetString()));
    }

    private async Task<JsonElement> SendAsync(HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        var (status, text) = await SendRawAsync(method, path, body is null ? null : JsonSerializer.Serialize(body));
        Assert.True(status == expected, $"{method} {path}: expected {(int)expected}, got {(int)status}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<(HttpStatusCode Status, string Body)> SendRawAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(MediaType);
        }

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}
