using Orders.Cli.Settings;

namespace Orders.Cli.UnitTests;

/// <summary>Which settings file wins: every appsettings.json before every appsettings.{DOTNET_ENVIRONMENT}.json, wherever each lies.</summary>
[Collection(EnvironmentCollection.Name)]
public sealed class SettingsPrecedenceTests
{
    [Fact]
    public void TheEnvironmentsFileBesideTheExecutable_WinsOverAPlainAppsettingsInTheWorkingDirectory()
    {
        var environment = $"precedence{Guid.NewGuid():N}";
        var besideExecutable = Path.Combine(AppContext.BaseDirectory, $"appsettings.{environment}.json");
        var workingDirectory = Directory.CreateTempSubdirectory("orders-precedence").FullName;
        var previousDirectory = Directory.GetCurrentDirectory();
        using var _ = TestEnvironment.Variable("DOTNET_ENVIRONMENT", environment);
        try
        {
            File.WriteAllText(besideExecutable, """{ "Processor": { "Topic": "from-the-environments-file" } }""");
            File.WriteAllText(Path.Combine(workingDirectory, "appsettings.json"), """{ "Processor": { "Topic": "from-the-working-directory" } }""");
            Directory.SetCurrentDirectory(workingDirectory);

            var settings = CliSettings.Load(new SettingsRequest(null, new Dictionary<string, string?>(), Json: true, UsesKafka: false));

            Assert.Equal("from-the-environments-file", settings.ProcessorTopic);
        }
        finally
        {
            Directory.SetCurrentDirectory(previousDirectory);
            File.Delete(besideExecutable);
            Directory.Delete(workingDirectory, recursive: true);
        }
    }
}
