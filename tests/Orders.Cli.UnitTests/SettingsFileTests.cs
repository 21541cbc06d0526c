using System.Text;
using Orders.Cli.Settings;

namespace Orders.Cli.UnitTests;

/// <summary>Settings files as editors and people leave them: with a byte-order mark, a key twice, a brace missing, a folder of that name.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SettingsFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("orders-settings-file").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void AConfigFileWithAByteOrderMark_IsRead()
    {
        var file = Write("bom.json", "\uFEFF{ \"Processor\": { \"Topic\": \"from-a-bom-file\" } }");

        Assert.Equal("from-a-bom-file", Load(file).ProcessorTopic);
    }

    [Fact]
    public void AnAppsettingsFileWithAByteOrderMark_IsRead() =>
        InWorkingDirectory("\uFEFF{ \"Processor\": { \"Topic\": \"from-a-bom-appsettings\" } }", () => Assert.Equal("from-a-bom-appsettings", Load(null).ProcessorTopic));

    [Fact]
    public void AKeyGivenTwiceInOneFile_IsNamedWithItsFile()
    {
        var file = Write("twice.json", """{ "Processor": { "MaxAttempts": 4, "maxattempts": 5 } }""");

        var error = Assert.Throws<SettingsException>(() => Load(file));

        Assert.Equal($"bad settings file {file}: 'Processor:maxattempts' is given twice (keys are compared ignoring case)", error.Message);
    }

    [Fact]
    public void AMalformedAppsettingsFile_IsNamedWithTheLineAndPositionOfTheFault() =>
        InWorkingDirectory("""{ "Processor": { "MaxAttempts": 4, }""", () =>
        {
            var error = Assert.Throws<SettingsException>(() => Load(null));

            Assert.StartsWith($"bad settings file {Path.Combine(_folder, "appsettings.json")}: ", error.Message, StringComparison.Ordinal);
            Assert.Contains("BytePositionInLine", error.Message, StringComparison.Ordinal);
        });

    [Fact]
    public void AFolderNamedAppsettingsJson_IsRefused_NotIgnored()
    {
        Directory.CreateDirectory(Path.Combine(_folder, "appsettings.json"));
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(_folder);
        try
        {
            var error = Assert.Throws<SettingsException>(() => Load(null));

            Assert.Equal($"settings file {Path.Combine(_folder, "appsettings.json")}: is a directory, not a settings file", error.Message);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public void AKafkaSettingGivenUnderItsOtherName_TheSourceThatRanksHigherWins_AFlagOverAFile()
    {
        var file = Write("dotted.json", """{ "Kafka": { "bootstrap.servers": "from-the-file:9092", "linger.ms": "7" } }""");

        var settings = CliSettings.Load(new SettingsRequest(file, new Dictionary<string, string?> { ["Kafka:BootstrapServers"] = "from-the-flag:9092" }, Json: true, UsesKafka: true));

        Assert.Equal("from-the-flag:9092", settings.ConsumerConfig().BootstrapServers);
        Assert.Equal("from-the-flag:9092", settings.ProducerConfig().BootstrapServers);
        Assert.Equal("7", settings.ProducerConfig().Get("linger.ms"));
    }

    [Fact]
    public void AKafkaSettingGivenUnderItsOtherName_TheEnvironmentOverAFile()
    {
        var file = Write("dotted.json", """{ "Kafka": { "bootstrap.servers": "from-the-file:9092", "LingerMs": "7" } }""");
        using var bootstrap = TestEnvironment.Variable("Kafka__BootstrapServers", "from-the-environment:9092");
        using var linger = TestEnvironment.Variable("Kafka__linger.ms", "9");

        var settings = Load(file, usesKafka: true);

        Assert.Equal("from-the-environment:9092", settings.ConsumerConfig().BootstrapServers);
        Assert.Equal("9", settings.ProducerConfig().Get("linger.ms"));
    }

    [Fact]
    public void AKafkaSettingGivenUnderBothNamesInOneFile_IsRefused_NamingBoth()
    {
        var file = Write("both.json", """{ "Kafka": { "bootstrap.servers": "a:9092", "BootstrapServers": "b:9092" } }""");

        var error = Assert.Throws<SettingsException>(() => Load(file, usesKafka: true));

        Assert.Equal("Kafka: bootstrap.servers and BootstrapServers are one setting (bootstrap.servers) given twice in one place: keep one", error.Message);
    }

    [Fact]
    public void ARegistrySettingGivenUnderBothNamesInOneFile_IsRefused_NamingBoth()
    {
        var file = Write("both.json", """{ "SchemaRegistry": { "Url": "http://a:8081", "schema.registry.url": "http://b:8081" } }""");

        var error = Assert.Throws<SettingsException>(() => Load(file, usesKafka: true));

        Assert.Equal("SchemaRegistry: schema.registry.url and Url are one setting (schema.registry.url) given twice in one place: keep one", error.Message);
    }

    [Fact]
    public void ARegistrySettingGivenUnderItsOtherName_TheEnvironmentOverAFile()
    {
        var file = Write("dotted.json", """{ "SchemaRegistry": { "schema.registry.url": "http://from-the-file:8081" } }""");
        using var url = TestEnvironment.Variable("SchemaRegistry__Url", "http://from-the-environment:8081");

        Assert.Equal("http://from-the-environment:8081", Load(file, usesKafka: true).SchemaRegistryConfig().Url);
    }

    [Fact]
    public void APropertyThatNeedsIdempotence_IsAccepted_AsTheProducersAreIdempotent()
    {
        var file = Write("gapless.json", """{ "Kafka": { "enable.gapless.guarantee": "true" } }""");

        Assert.Equal("true", Load(file, usesKafka: true).ProducerConfig().Get("enable.gapless.guarantee"));
    }

    private static CliSettings Load(string? configFile, bool usesKafka) =>
        CliSettings.Load(new SettingsRequest(configFile, new Dictionary<string, string?>(), Json: true, UsesKafka: usesKafka));

    private static CliSettings Load(string? configFile) =>
        CliSettings.Load(new SettingsRequest(configFile, new Dictionary<string, string?>(), Json: true, UsesKafka: false));

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }

    private void InWorkingDirectory(string appsettings, Action test)
    {
        Write("appsettings.json", appsettings);
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(_folder);
        try
        {
            test();
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }
}
