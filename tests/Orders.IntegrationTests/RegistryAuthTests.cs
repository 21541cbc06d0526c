using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Confluent.SchemaRegistry;
using Orders.Cli;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.LocalStack;

namespace Orders.IntegrationTests;

/// <summary>A local stack whose registry requires basic auth (<c>orders stack --registry-auth FILE</c>).</summary>
public sealed class AuthStackFixture : IAsyncLifetime
{
    public const string User = "orders";
    public const string Password = "s3cret:with-colon";

    private readonly string _folder = Directory.CreateTempSubdirectory("orders-auth-stack").FullName;
    private LocalStackHost? _stack;

    public LocalStackHost Stack => _stack ?? throw new InvalidOperationException("The stack has not started.");

    public string UsersFile => Path.Combine(_folder, "users.txt");

    public async ValueTask InitializeAsync()
    {
        await File.WriteAllTextAsync(UsersFile, $"# who may use the registry\n{User}:{Password}\nreader:sha256:{Convert.ToHexString(System.Security.Cryptography.SHA256.HashData("reader-pw"u8))}\n");
        _stack = await LocalStackHost.StartAsync(new LocalStackOptions { KafkaPort = 0, RegistryPort = 0, Partitions = 3, RegistryAuthFile = UsersFile });
    }

    public async ValueTask DisposeAsync()
    {
        if (_stack is not null)
        {
            await _stack.DisposeAsync();
        }

        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A settings file for <c>orders --config</c> with these registry credentials.</summary>
    public string SettingsFile(string userInfo)
    {
        var path = Path.Combine(_folder, $"settings-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""{ "SchemaRegistry": { "BasicAuthUserInfo": "{{userInfo}}" } }""");
        return path;
    }

    public string CreateTopic(string prefix)
    {
        var topic = StackFixture.Unique(prefix);
        StackFixture.CreateOrderTopics(Stack.Kafka, topic, 3, replicationFactor: 1);
        return topic;
    }
}

public sealed class RegistryAuthTests(AuthStackFixture fixture) : IClassFixture<AuthStackFixture>
{
    private static readonly HttpClient Http = new();

    private string Url => fixture.Stack.SchemaRegistryUrl;

    private string[] Endpoints(string topic) =>
        ["--bootstrap-servers", fixture.Stack.BootstrapServers, "--schema-registry", Url, "--topic", topic];

    private async Task<HttpResponseMessage> SendAsync(string method, string path, AuthenticationHeaderValue? authorization)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), Url + path);
        request.Headers.Authorization = authorization;
        if (method is "POST" or "PUT")
        {
            request.Content = new StringContent(path.StartsWith("/config", StringComparison.Ordinal)
                ? """{"compatibility":"NONE"}"""
                : $$"""{"schema":{{System.Text.Json.JsonSerializer.Serialize(OrderSchemas.Current)}}}""", Encoding.UTF8, "application/json");
        }

        return await Http.SendAsync(request, TestContext.Current.CancellationToken);
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    public static TheoryData<string, string> Endpoints401() => new()
    {
        { "GET", "/" },
        { "GET", "/subjects" },
        { "GET", "/schemas/ids/1" },
        { "GET", "/associations/resources/-/orders?resourceType=topic&associationType=value" },
        { "POST", "/subjects/auth-probe-value/versions" },
        { "POST", "/subjects/auth-probe-value" },
        { "GET", "/config" },
        { "PUT", "/config" },
        { "DELETE", "/subjects/auth-probe-value" },
        { "GET", "/no/such/path" },
    };

    [Theory]
    [MemberData(nameof(Endpoints401))]
    public async Task EveryEndpoint_WithoutOrWithWrongCredentials_Is401WithConfluentsErrorAndAChallenge(string method, string path)
    {
        foreach (var authorization in new[] { null, Basic(AuthStackFixture.User, "wrong"), Basic("nobody", AuthStackFixture.Password), new AuthenticationHeaderValue("Bearer", "token") })
        {
            using var response = await SendAsync(method, path, authorization);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("""{"error_code":401,"message":"Unauthorized"}""", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal("application/vnd.schemaregistry.v1+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("Basic", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        }
    }

    [Fact]
    public async Task TheRightCredentials_ServeTheApi_PlainAndHashedEntriesAlike()
    {
        using var plain = await SendAsync("GET", "/config", Basic(AuthStackFixture.User, AuthStackFixture.Password));
        using var hashed = await SendAsync("GET", "/subjects", Basic("reader", "reader-pw"));

        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        Assert.Equal(HttpStatusCode.OK, hashed.StatusCode);
    }

    [Theory]
    [InlineData("user info")]
    [InlineData("SASL_INHERIT")]
    public async Task TheClusterLanesRegistryHttp_AuthenticatesAsTheClientsSettingsSay_AndDeletesASubject(string how)
    {
        var config = new SchemaRegistryConfig { Url = Url };
        if (how == "SASL_INHERIT")
        {
            // As SchemaRegistrySettings leaves it: the source, and the Kafka credentials copied in.
            config.BasicAuthCredentialsSource = AuthCredentialsSource.SaslInherit;
            config.Set("sasl.username", AuthStackFixture.User);
            config.Set("sasl.password", AuthStackFixture.Password);
        }
        else
        {
            config.BasicAuthUserInfo = $"{AuthStackFixture.User}:{AuthStackFixture.Password}";
        }

        var subject = $"{StackFixture.Unique("lane-delete")}-value";
        using (var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = Url, BasicAuthUserInfo = $"{AuthStackFixture.User}:{AuthStackFixture.Password}" }))
        {
            await client.RegisterSchemaAsync(subject, new Schema(OrderSchemas.Current, SchemaType.Avro));
        }

        using var http = await Cluster.RegistryHttp.CreateAsync(config);
        using var soft = await http.DeleteAsync($"subjects/{Uri.EscapeDataString(subject)}", TestContext.Current.CancellationToken);
        using var permanent = await http.DeleteAsync($"subjects/{Uri.EscapeDataString(subject)}?permanent=true", TestContext.Current.CancellationToken);

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (soft.StatusCode, permanent.StatusCode));
    }

    [Fact]
    public async Task ConfluentsClient_WithBasicAuthUserInfo_RegistersAndReads()
    {
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = Url, BasicAuthUserInfo = $"{AuthStackFixture.User}:{AuthStackFixture.Password}" });
        var subject = StackFixture.Unique("auth") + "-value";

        var id = await client.RegisterSchemaAsync(subject, new Schema(OrderSchemas.Current, SchemaType.Avro));

        Assert.Equal(id, (await client.GetLatestSchemaAsync(subject)).Id);
    }

    [Fact]
    public async Task ProduceAndConsume_WithTheRegistryCredentials_Work()
    {
        var topic = fixture.CreateTopic("auth-e2e");
        var settings = fixture.SettingsFile($"{AuthStackFixture.User}:{AuthStackFixture.Password}");

        var produced = await OrdersCommand.RunJsonAsync(["produce", .. Endpoints(topic), "--config", settings, "--count", "60", "--seed", "3"]);
        var consumed = await OrdersCommand.RunJsonAsync(["consume", .. Endpoints(topic), "--config", settings, "--group", StackFixture.Unique("auth"), "--until-idle", "3"]);

        Assert.Equal(60, produced.GetProperty("produced").GetInt64());
        Assert.Equal(60, consumed.GetProperty("processed").GetInt64() + consumed.GetProperty("deadLettered").GetProperty("total").GetInt64());
        Assert.Equal(0, consumed.GetProperty("deadLettered").GetProperty("poison").GetInt64());
    }

    [Theory]
    [InlineData("produce", "orders:wrong-password", "rejected the credentials (401 Unauthorized): check SchemaRegistry:BasicAuthUserInfo")]
    [InlineData("consume", "orders:wrong-password", "rejected the credentials (401 Unauthorized): check SchemaRegistry:BasicAuthUserInfo")]
    [InlineData("produce", null, "requires credentials (401 Unauthorized): set SchemaRegistry:BasicAuthUserInfo")]
    [InlineData("consume", null, "requires credentials (401 Unauthorized): set SchemaRegistry:BasicAuthUserInfo")]
    public async Task WrongOrMissingCredentials_AreOneClearLine_Exit1(string verb, string? userInfo, string expected)
    {
        var topic = fixture.CreateTopic("auth-denied");
        string[] config = userInfo is null ? [] : ["--config", fixture.SettingsFile(userInfo)];
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        string[] limit = verb == "produce" ? ["--count", "5"] : ["--until-idle", "3"];

        var exit = await OrdersCli.RunAsync([verb, .. Endpoints(topic), .. config, .. limit], stdout, stderr);

        Assert.Equal(OrdersCli.ExitFailure, exit);
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith($"orders: the Schema Registry at {Url} {expected}", line, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-password", stderr.ToString(), StringComparison.Ordinal);
        Assert.Equal("", stdout.ToString());
    }
}
