using System.Text;
using System.Text.Json;

namespace Orders.IntegrationTests;

/// <summary>
/// Hostile input on real sockets: JSON built to hurt (deep, huge, repeated, mistyped), text that
/// is not UTF-8 or holds unpaired surrogates, broken HTTP framing, and schemas shaped to make a
/// naive registry exponential or quadratic. Whatever arrives: no 5xx, an answer in bounded time,
/// nothing logged at warning level (least of all a stack trace). The 10 s bound per request is
/// generous by orders of magnitude (the work budget runs out in about 0.6 s), a guard against
/// the exponential and quadratic behaviour, not a performance measurement.
/// </summary>
public sealed class RegistryFuzzTests(RegistryTestServer server) : IClassFixture<RegistryTestServer>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    public static TheoryData<string, string, string, string, int, int> RejectedBodies() => new()
    {
        // name, method, path, body (\xNN: a raw byte), HTTP status, error_code
        { "invalid UTF-8 in the schema string", "POST", "subjects/{s}/versions", "{\"schema\":\"\\\"a\\xff\\xfe\\\"\"}", 400, 400 },
        { "invalid UTF-8 in a property name", "POST", "subjects/{s}/versions", "{\"sch\\xc3ema\":\"\\\"int\\\"\"}", 400, 400 },
        { "overlong UTF-8 encoding of '/'", "POST", "subjects/{s}/versions", "{\"schema\":\"\\xc0\\xaf\"}", 400, 400 },
        { "UTF-8 encoded surrogate", "POST", "subjects/{s}/versions", "{\"schema\":\"\\xed\\xa0\\x80\"}", 400, 400 },
        { "truncated UTF-8 sequence at the end", "POST", "compatibility/subjects/{s}/versions", "{\"schema\":\"\\\"int\\\"\"}\\xe2\\x82", 400, 400 },
        { "lone high surrogate escape as the schema", "POST", "subjects/{s}/versions", """{"schema":"\ud800"}""", 422, 42201 },
        { "lone low surrogate escape in the schema string", "POST", "subjects/{s}/versions", """{"schema":"\"\udc00\""}""", 422, 42201 },
        { "reversed surrogate pair", "POST", "compatibility/subjects/{s}/versions", """{"schema":"\"\udc00\ud800\""}""", 422, 42201 },
        { "lone surrogate escaped inside the schema's own JSON", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\",\"doc\":\"\\ud800\"}"}""", 422, 42201 },
        { "lone surrogate in a name inside the schema", "POST", "subjects/{s}", """{"schema":"{\"type\":\"record\",\"name\":\"R\\udbff\",\"fields\":[]}"}""", 422, 42201 },
        { "lone surrogate in a property name", "POST", "subjects/{s}/versions", """{"\ud800":1}""", 400, 400 },
        { "lone surrogate in schemaType", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","schemaType":"\ud800"}""", 400, 400 },
        { "lone surrogate in a compatibility level", "PUT", "config/{s}", """{"compatibility":"\ud800"}""", 400, 400 },
        { "arrays nested 10,000 deep", "POST", "subjects/{s}/versions", new string('[', 10_000) + new string(']', 10_000), 400, 400 },
        { "objects nested 1,000 deep", "POST", "subjects/{s}/versions", string.Concat(Enumerable.Repeat("{\"a\":", 1000)) + "1" + new string('}', 1000), 400, 400 },
        { "schema nested 300 deep", "POST", "subjects/{s}/versions", $$"""{"schema":"{{new string('[', 300)}}{{new string(']', 300)}}"}""", 422, 42201 },
        { "a number of a million digits' exponent as id", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","id":1e999999999}""", 422, 422 },
        { "a 100,000-digit number as version", "POST", "subjects/{s}/versions", $$"""{"schema":"\"int\"","version":{{new string('9', 100_000)}}}""", 422, 422 },
        { "a fixed size of 1e400", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":1e400}"}""", 422, 42201 },
        { "schema as an array", "POST", "subjects/{s}/versions", """{"schema":["int"]}""", 422, 422 },
        { "schema as an object", "POST", "subjects/{s}/versions", """{"schema":{"type":"int"}}""", 422, 422 },
        { "schemaType as a number", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","schemaType":5}""", 422, 422 },
        { "metadata as a string", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","metadata":"x"}""", 422, 422 },
        { "version as a string", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","version":"1"}""", 422, 422 },
        { "fields as an object", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}"}""", 422, 42201 },
        { "symbols as a string", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":\"A\"}"}""", 422, 42201 },
        { "a name as a number", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":5,\"fields\":[]}"}""", 422, 42201 },
        { "type null", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":null}"}""", 422, 42201 },
        { "a body of null", "POST", "subjects/{s}/versions", "null", 422, 422 },
        { "a body of NUL bytes", "POST", "subjects/{s}/versions", "\\x00\\x00\\x00", 400, 400 },
        { "a compatibility level as a number", "PUT", "config/{s}", """{"compatibility":1e999}""", 422, 422 },
    };

    [Theory]
    [MemberData(nameof(RejectedBodies))]
    public async Task HostileBody_GetsAPrecise4xxWithConfluentsErrorJson(string name, string method, string path, string body, int status, int errorCode)
    {
        var logged = server.Logs.Entries.Count;

        var answer = await server.SendAsync(new HttpMethod(method), path.Replace("{s}", Subject("fuzz"), StringComparison.Ordinal), Bytes(body), Cancellation);

        Assert.True(answer.Code == status, $"{name}: expected {status}, got {answer}");
        Assert.Equal(errorCode, answer.ErrorCode());
        Assert.InRange(answer.Elapsed, TimeSpan.Zero, Bound);
        Assert.Empty(server.WarningsSince(logged));
    }

    public static TheoryData<string, string, string, string> AcceptableBodies() => new()
    {
        // name, method, path, body: valid or not, never a 5xx
        { "a repeated schema key (the last wins)", "POST", "subjects/{s}/versions", """{"schema":"\"int\"","schema":"\"long\""}""" },
        { "a double default of 1e400", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"d\",\"type\":\"double\",\"default\":1e400}]}"}""" },
        { "a UTF-8 byte order mark", "POST", "subjects/{s}/versions", "\\xef\\xbb\\xbf{\"schema\":\"\\\"int\\\"\"}" },
        { "an escaped NUL in a doc", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\",\"doc\":\"a\\u0000b\"}"}""" },
        { "a surrogate pair in a doc", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"string\",\"doc\":\"\\ud83d\\ude00\"}"}""" },
        { "a repeated property inside the schema", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":\"R\",\"name\":\"S\",\"fields\":[]}"}""" },
        { "a record default with repeated keys", "POST", "subjects/{s}/versions", """{"schema":"{\"type\":\"record\",\"name\":\"H\",\"fields\":[{\"name\":\"r\",\"type\":{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]},\"default\":{\"a\":\"x\",\"a\":1}}]}"}""" },
        { "an empty object", "POST", "subjects/{s}/versions", "{}" },
        { "a UTF-16 body", "POST", "subjects/{s}/versions", "{\\x00\"\\x00}\\x00" },
        { "a verbose flag that is not a boolean", "POST", "compatibility/subjects/{s}/versions?verbose=yes", """{"schema":"\"int\""}""" },
        { "thousands of unknown fields", "POST", "subjects/{s}/versions", "{" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"f{i}\":{i}")) + "}" },
    };

    [Theory]
    [MemberData(nameof(AcceptableBodies))]
    public async Task OddButHarmlessBody_IsAnsweredWithoutA5xx(string name, string method, string path, string body)
    {
        var logged = server.Logs.Entries.Count;

        var answer = await server.SendAsync(new HttpMethod(method), path.Replace("{s}", Subject("odd"), StringComparison.Ordinal), Bytes(body), Cancellation);

        Assert.True(answer.Code < 500, $"{name}: {answer}");
        Assert.InRange(answer.Elapsed, TimeSpan.Zero, Bound);
        Assert.Empty(server.WarningsSince(logged));
    }

    [Theory]
    [InlineData("subjects/%00/versions")]
    [InlineData("subjects/%FF%FE/versions")]
    [InlineData("subjects/..%2F..%2Fetc/versions")]
    [InlineData("subjects/%2F%2F%2F")]
    [InlineData("config/%25%25%25")]
    [InlineData("schemas/ids/99999999999999999999")]
    [InlineData("schemas/ids/%2D1")]
    [InlineData("subjects/a/versions/%31")]
    [InlineData("compatibility/subjects/%00/versions/latest?verbose=true")]
    public async Task HostilePath_IsAnsweredWithoutA5xx(string path)
    {
        var logged = server.Logs.Entries.Count;

        var get = await server.SendAsync(HttpMethod.Get, path, (byte[]?)null, Cancellation);
        var post = await server.PostSchemaAsync(path, "\"int\"", Cancellation);

        Assert.True(get.Code < 500, $"GET {path}: {get}");
        Assert.True(post.Code < 500, $"POST {path}: {post}");
        Assert.Empty(server.WarningsSince(logged));
    }

    [Fact]
    public async Task OverflowingChunkSize_OverARawSocket_Is400WithConfluentsErrorJson()
    {
        var logged = server.Logs.Entries.Count;
        var request = Encoding.ASCII.GetBytes(
            $"POST /subjects/{Subject("chunk")}/versions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "FFFFFFFFFFFFFFFFFFFFFFFF\r\n{\"schema\":\"\\\"int\\\"\"}\r\n0\r\n\r\n");

        var answer = await server.SendRawAsync(request, Cancellation);

        Assert.StartsWith("HTTP/1.1 400", answer, StringComparison.Ordinal);
        Assert.Contains("\"error_code\":400", answer, StringComparison.Ordinal);
        Assert.Empty(server.WarningsSince(logged));
    }

    public static TheoryData<string, string> BrokenFraming() => new()
    {
        { "a chunk size that is not hex", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n" },
        { "a negative chunk size", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n{}\r\n0\r\n\r\n" },
        { "a chunk longer than its size", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{\"schema\":1}\r\n0\r\n\r\n" },
        { "a chunk extension of 100 KB", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2;" + new string('e', 100_000) + "\r\n{}\r\n0\r\n\r\n" },
        { "Content-Length and chunked together", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n" },
        { "a Content-Length that overflows", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n{}" },
        { "a negative Content-Length", "POST /subjects/{s}/versions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}" },
        { "a header of 100 KB", "GET /subjects HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('h', 100_000) + "\r\n\r\n" },
        { "a request line that is not HTTP", "HELLO THERE\r\n\r\n" },
        { "a bare LF request", "GET /subjects HTTP/1.1\nHost: x\n\n" },
    };

    [Theory]
    [MemberData(nameof(BrokenFraming))]
    public async Task BrokenFraming_OverARawSocket_IsNeverA5xx(string name, string request)
    {
        var logged = server.Logs.Entries.Count;

        var answer = await server.SendRawAsync(Encoding.ASCII.GetBytes(request.Replace("{s}", Subject("framing"), StringComparison.Ordinal)), Cancellation);

        Assert.False(answer.StartsWith("HTTP/1.1 5", StringComparison.Ordinal), $"{name}: {answer}");
        Assert.Empty(server.WarningsSince(logged));
    }

    public static TheoryData<string, string, string, int[]> SchemaShapes() => new()
    {
        // name, first version, second version (judged against the first), the statuses the second may get
        { "DAG of depth 30, widened leaf", RegistryHostileSchemas.Dag(30), RegistryHostileSchemas.Dag(30, "long"), [200] },
        { "DAG of depth 30, narrowed leaf", RegistryHostileSchemas.Dag(30, "long"), RegistryHostileSchemas.Dag(30), [409] },
        { "enum of 100,000 symbols, one added", RegistryHostileSchemas.Enum(100_000), RegistryHostileSchemas.Enum(100_000, ",\"Added\""), [200] },
        { "enum of 100,000 symbols, half removed", RegistryHostileSchemas.Enum(100_000), RegistryHostileSchemas.Enum(50_000), [409] },
        { "unions of 3,000 records sharing a name", RegistryHostileSchemas.SameNameUnion(3000, reader: false), RegistryHostileSchemas.SameNameUnion(3000, reader: true), [422] },
        { "a chain of 600 records", RegistryHostileSchemas.Chain(600, "x"), RegistryHostileSchemas.Chain(600, "a"), [422] },
        { "arrays nested 120 deep", Nested(120, "int"), Nested(120, "long"), [200] },
        { "a record of 20,000 fields", Fields(20_000, "int"), Fields(20_000, "long"), [200] },
        { "a record of 20,000 fields, all narrowed", Fields(20_000, "long"), Fields(20_000, "int"), [409] },
        { "a union of 8,000 records", Union(8000, 0), Union(8000, 1), [200] },
    };

    [Theory]
    [MemberData(nameof(SchemaShapes))]
    public async Task HostileSchemaShape_IsRegisteredAndJudgedInBoundedTime(string name, string first, string second, int[] statuses)
    {
        var logged = server.Logs.Entries.Count;
        var subject = Subject("shape");

        var registered = await server.PostSchemaAsync($"subjects/{subject}/versions", first, Cancellation);
        var check = await server.PostSchemaAsync($"compatibility/subjects/{subject}/versions/latest?verbose=true", second, Cancellation);
        var again = await server.PostSchemaAsync($"subjects/{subject}/versions", second, Cancellation);

        Assert.True(registered.Code == 200, $"{name}: first version: {registered}");
        Assert.True(statuses.Contains(again.Code), $"{name}: second version: {again}");
        Assert.True(check.Code == (again.Code is 409 ? 200 : again.Code), $"{name}: compatibility check: {check}");
        if (again.Code == 409)
        {
            Assert.False(JsonDocument.Parse(check.Body).RootElement.GetProperty("is_compatible").GetBoolean());
            Assert.InRange(JsonDocument.Parse(check.Body).RootElement.GetProperty("messages").GetArrayLength(), 1, 101);
        }

        Assert.All(new[] { registered, check, again }, a => Assert.InRange(a.Elapsed, TimeSpan.Zero, Bound));
        Assert.Empty(server.WarningsSince(logged));
    }

    private static string Nested(int depth, string leaf) =>
        depth == 0 ? $"\"{leaf}\"" : $$"""{"type":"array","items":{{Nested(depth - 1, leaf)}}}""";

    private static string Fields(int count, string type) =>
        $$"""{"type":"record","name":"Wide","fields":[{{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"name":"f{{i}}","type":"{{type}}"}"""))}}]}""";

    private static string Union(int count, int fields) =>
        $"[{string.Join(",", Enumerable.Range(0, count).Select(i => $$"""{"type":"record","name":"R{{i}}","fields":[{{(fields == 0 ? "" : """{"name":"a","type":"int","default":0}""")}}]}"""))}]";

    private static string Subject(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>The text as UTF-8, with each <c>\xNN</c> written as that raw byte (to send what no string can hold).</summary>
    private static byte[] Bytes(string text)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 3 < text.Length && text[i + 1] == 'x' && Uri.IsHexDigit(text[i + 2]) && Uri.IsHexDigit(text[i + 3]))
            {
                bytes.Add(Convert.ToByte(text.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
            }
        }

        return [.. bytes];
    }
}
