using System.CommandLine;

namespace Orders.Cli.Settings;

/// <summary>The options every client verb takes: where Kafka and the registry are, the topic, <c>--config</c> and <c>--json</c>.</summary>
/// <param name="topicKey">The configuration key <c>--topic</c> sets (<c>Processor:Topic</c>, or <c>Producer:Topic</c> for produce).</param>
internal sealed class ClientOptions(string topicKey = "Processor:Topic")
{
    public Option<string?> BootstrapServers { get; } = new("--bootstrap-servers") { Description = "Kafka bootstrap servers (default localhost:9092; Kafka:BootstrapServers)." };

    public Option<string?> SchemaRegistry { get; } = SchemaRegistryOption();

    public Option<string> Topic { get; } = CliOptions.Topic();

    public Option<bool> Json { get; } = JsonOption();

    public Option<FileInfo?> Config { get; } = new("--config")
    {
        Description = "A settings file in the appsettings.json format (e.g. appsettings.Secure.json), over appsettings.json; environment variables and flags still win.",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print exactly one JSON document, the run's summary, on stdout; logs go to stderr." };

    public void AddTo(Command command, FlagMap flags)
    {
        command.Options.Add(BootstrapServers);
        command.Options.Add(SchemaRegistry);
        command.Options.Add(Topic);
        command.Options.Add(Json);
        command.Options.Add(Config);
        flags.Add(BootstrapServers, "Kafka:BootstrapServers")
            .Add(SchemaRegistry, "SchemaRegistry:Url")
            .Add(Topic, topicKey);
    }

    /// <exception cref="SettingsException">Bad settings of any source.</exception>
    public CliSettings Load(ParseResult parseResult, FlagMap flags) =>
        CliSettings.Load(new SettingsRequest(parseResult.GetValue(Config)?.FullName, flags.From(parseResult), parseResult.GetValue(Json)));

    private static Option<string?> SchemaRegistryOption()
    {
        var option = new Option<string?>("--schema-registry") { Description = "Schema Registry URL (default http://localhost:8081; SchemaRegistry:Url)." };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } url && CliSettings.ValidateUrl(url) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }
}
