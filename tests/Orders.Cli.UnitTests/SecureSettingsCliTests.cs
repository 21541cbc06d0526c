using Microsoft.Extensions.Logging;
using Orders.Cli.Settings;
using Orders.Tests.Shared;

namespace Orders.Cli.UnitTests;

/// <summary>Registry settings, --config and --registry-auth as a user meets them: one line and exit 2 for anything bad, secrets never echoed.</summary>
public sealed class SecureSettingsCliTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orders-secure-cli").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static async Task<string> OneLineExit2(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var exit = await OrdersCli.RunAsync(args, stdout, stderr);

        Assert.Equal(OrdersCli.ExitUsage, exit);
        Assert.Equal("", stdout.ToString());
        var line = Assert.Single(stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("orders: ", line, StringComparison.Ordinal);
        return line;
    }

    [Theory]
    [InlineData("produce")]
    [InlineData("consume")]
    public async Task ABadRegistrySetting_InASettingsFile_IsOneLineNamingIt_Exit2(string verb)
    {
        var config = Write("bad.json", """{ "SchemaRegistry": { "BasicAuthUserInfo": "no-colon-secret" } }""");

        var line = await OneLineExit2(verb, "--config", config);

        Assert.Equal("orders: SchemaRegistry:BasicAuthUserInfo: expected user:password, found no ':'", line);
    }

    [Fact]
    public async Task AMissingSettingsFile_IsOneLine_Exit2() =>
        Assert.Contains("file not found", await OneLineExit2("produce", "--config", Path.Combine(_folder, "nope.json")), StringComparison.Ordinal);

    [Fact]
    public async Task AMalformedSettingsFile_IsOneLine_Exit2() =>
        Assert.Contains("bad settings file", await OneLineExit2("produce", "--config", Write("broken.json", "{ \"Kafka\": ")), StringComparison.Ordinal);

    [Theory]
    [InlineData("""{ "Processor": { "MaxAttempts": [1, 2] } }""", "Processor:MaxAttempts must be one value, not an array")]
    [InlineData("""{ "Processor": { "MaxAttempts": { "x": 1 } } }""", "Processor:MaxAttempts must be one value, not an object")]
    [InlineData("""{ "Processor": "abc" }""", "Processor must be an object of settings, not a string")]
    [InlineData("""{ "Processor": { "Handler": "10ms" } }""", "Processor:Handler must be an object of settings, not a string")]
    [InlineData("""{ "Processor": { "CreatedTopics": { "ReplicationFactr": 3 } } }""", "unknown setting 'Processor:CreatedTopics:ReplicationFactr' (did you mean ReplicationFactor?)")]
    [InlineData("""{ "Processor": { "Htp": { "Port": 1 } } }""", "unknown setting 'Processor:Htp' (did you mean Http?)")]
    [InlineData("""{ "Processor": { "Nonsense": 1 } }""", "; and the sections CreatedTopics, Handler, Http)")]
    [InlineData("""{ "Processor": { "Http": { "Prt": 1 } } }""", "(Processor:Http has DashboardInterval, Enabled, Host, Port)")]
    public async Task ASettingOfTheWrongShape_InASettingsFile_IsOneLineNamingIt_NotSkippedForItsDefault(string json, string said)
    {
        var line = await OneLineExit2("consume", "--config", Write("shape.json", json));

        Assert.Contains(said, line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASchemaRegistryFlagWithCredentials_IsRejectedWithoutShowingThem()
    {
        var line = await OneLineExit2("produce", "--schema-registry", "ftp://alice:hunter2@registry");

        Assert.DoesNotContain("hunter2", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stack_RegistryAuthFileMissing_IsOneLine_Exit2() =>
        Assert.Contains("cannot read the registry users file", await OneLineExit2("stack", "--registry-auth", Path.Combine(_folder, "none.txt")), StringComparison.Ordinal);

    [Fact]
    public async Task Stack_RegistryAuthFileThatNeverEnds_IsRefusedAtOnce_Exit2() =>
        Assert.Contains("larger than 1024 KiB", await OneLineExit2("stack", "--registry-auth", "/dev/zero"), StringComparison.Ordinal);

    [Fact]
    public async Task Stack_RegistryAuthFileThatIsAFifoNothingWritesTo_IsRefused_Exit2()
    {
        var fifo = await Orders.Tests.Shared.Fifo.MakeAsync(_folder, "users.fifo");

        Assert.Contains("not a regular file", await OneLineExit2("stack", "--registry-auth", fifo), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stack_RegistryAuthFileWithABadLine_NamesTheLine_WithoutItsPassword_Exit2()
    {
        var users = Write("users.txt", "# users\nalice:wonderland\n\nbob:sha256:not-hex-super-secret\n");

        var line = await OneLineExit2("stack", "--registry-auth", users);

        Assert.Contains("line 4: sha256: must be followed by 64 hex digits", line, StringComparison.Ordinal);
        Assert.DoesNotContain("super-secret", line, StringComparison.Ordinal);
        Assert.DoesNotContain("wonderland", line, StringComparison.Ordinal);
    }

    [Fact]
    public void SettingsFile_OverridesAppsettings_WhateverNamesEachUses_AndFlagsOverrideBoth()
    {
        // appsettings.json beside the executable sets SchemaRegistry:Url; this file uses the dotted name.
        var file = Write("registry.json", """{ "SchemaRegistry": { "schema.registry.url": "http://from-file:8081", "RequestTimeoutMs": "750" } }""");

        var fromFile = CliSettings.Load(new SettingsRequest(file, new Dictionary<string, string?>(), Json: false));
        var fromFlag = CliSettings.Load(new SettingsRequest(file, new Dictionary<string, string?> { ["SchemaRegistry:Url"] = "http://from-flag:8081" }, Json: false));

        Assert.Equal("http://from-file:8081", fromFile!.SchemaRegistryUrl);
        Assert.Equal(750, fromFile.SchemaRegistryConfig().RequestTimeoutMs);
        Assert.Equal("http://from-flag:8081", fromFlag!.SchemaRegistryUrl);
    }

    [Fact]
    public void KafkaSettings_BothNameStyles_ReachTheClientConfig()
    {
        var file = Write("kafka.json", """{ "Kafka": { "BootstrapServers": "broker:1", "linger.ms": "7", "SecurityProtocol": "SASL_PLAINTEXT", "SaslMechanism": "PLAIN", "sasl.username": "u", "SaslPassword": "p" } }""");

        var settings = CliSettings.Load(new SettingsRequest(file, new Dictionary<string, string?>(), Json: false));

        var producer = settings.ProducerConfig();
        Assert.Equal("broker:1", producer.BootstrapServers);
        Assert.Equal(7, producer.LingerMs);
        Assert.Equal("SASL_PLAINTEXT", producer.Get("security.protocol"));
        Assert.Equal("PLAIN", producer.Get("sasl.mechanism"));
    }

    [Fact]
    public void TheLoggers_ScrubEveryConfiguredSecret()
    {
        var file = Write("secrets.json", """
            {
              "Kafka": { "sasl.password": "kafka-secret-1", "ssl.key.password": "key-secret-2" },
              "SchemaRegistry": { "BasicAuthUserInfo": "alice:registry-secret-3" }
            }
            """);
        var settings = CliSettings.Load(new SettingsRequest(file, new Dictionary<string, string?>(), Json: false));
        var sink = new CapturingLogger();

        using var loggers = Orders.Hosting.RedactingLoggerFactory.Wrap(new CapturingLoggerFactory(sink), settings.Redactor);
        loggers.CreateLogger("test").LogError("{A} {B} {C} {D}", "kafka-secret-1", "key-secret-2", "alice:registry-secret-3", "registry-secret-3");

        Assert.Equal("[redacted] [redacted] [redacted] [redacted]", Assert.Single(sink.Messages));
    }

    [Fact]
    public void TheSecureExample_MatchingTheComposeProfile_IsValid()
    {
        var settings = CliSettings.Load(new SettingsRequest(Path.Combine(AppContext.BaseDirectory, "appsettings.Secure.json"), new Dictionary<string, string?>(), Json: false));

        var producer = settings.ProducerConfig();
        Assert.Equal("localhost:9096", producer.BootstrapServers);
        Assert.Equal("SASL_PLAINTEXT", producer.Get("security.protocol"));
        Assert.Equal("SCRAM-SHA-512", producer.Get("sasl.mechanism"));
        Assert.Equal("http://localhost:8082", settings.SchemaRegistryUrl);
        Assert.Equal("orders:orders-secret", settings.SchemaRegistryConfig().BasicAuthUserInfo);
        Assert.False(settings.Redactor.IsEmpty);

        // librdkafka accepts the SASL settings (it rejects unknown properties and bad values at build).
        using var client = new Confluent.Kafka.ProducerBuilder<string, string>(producer).Build();
    }
}
