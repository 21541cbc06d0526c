using System.CommandLine;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Orders.Contracts;
using Orders.Kafka;

namespace Orders.Cli.Commands;

/// <summary>
/// Settings shared by the verbs. Precedence, lowest first: built-in defaults, appsettings.json
/// (beside the executable, then in the working directory), environment variables
/// (<c>Kafka__BootstrapServers</c>, <c>SchemaRegistry__Url</c>, any <c>Kafka__linger.ms</c>), flags.
/// The <c>Kafka</c> section is bound straight into the client configs, so any librdkafka property works.
/// </summary>
internal sealed class AppSettings
{
    private AppSettings(IConfiguration configuration, string topic, bool json)
    {
        Configuration = configuration;
        Topic = topic;
        Json = json;
    }

    public IConfiguration Configuration { get; }

    public string Topic { get; }

    public bool Json { get; }

    public string BootstrapServers => Configuration["Kafka:BootstrapServers"]!;

    public string SchemaRegistryUrl => Configuration["SchemaRegistry:Url"]!;

    /// <returns>The settings, or an error message for bad configuration.</returns>
    public static (AppSettings? Settings, string? Error) Load(string? bootstrapServers, string? schemaRegistry, string topic, bool json)
    {
        var overrides = new Dictionary<string, string?>();
        if (bootstrapServers is not null)
        {
            overrides["Kafka:BootstrapServers"] = bootstrapServers;
        }

        if (schemaRegistry is not null)
        {
            overrides["SchemaRegistry:Url"] = schemaRegistry;
        }

        IConfiguration configuration;
        try
        {
            configuration = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Kafka:BootstrapServers"] = "localhost:9092",
                    ["SchemaRegistry:Url"] = "http://localhost:8081",
                })
                .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
                .AddJsonFile(Path.Combine(Directory.GetCurrentDirectory(), "appsettings.json"), optional: true)
                .AddEnvironmentVariables()
                .AddInMemoryCollection(overrides)
                .Build();
        }
        catch (InvalidDataException e)
        {
            return (null, $"bad appsettings.json: {e.Message}");
        }

        if (string.IsNullOrWhiteSpace(configuration["Kafka:BootstrapServers"]))
        {
            return (null, "Kafka bootstrap servers are empty: set --bootstrap-servers or Kafka__BootstrapServers");
        }

        if (ValidateUrl(configuration["SchemaRegistry:Url"] ?? "") is { } urlError)
        {
            return (null, urlError);
        }

        return (new AppSettings(configuration, topic, json), null);
    }

    public ProducerConfig ProducerConfig() => Bind(new ProducerConfig());

    public ConsumerConfig ConsumerConfig() => Bind(new ConsumerConfig());

    public CachedSchemaRegistryClient SchemaRegistryClient() => new(new SchemaRegistryConfig
    {
        Url = SchemaRegistryUrl,
        RequestTimeoutMs = 5000,
    });

    public ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(builder => builder
        .AddConfiguration(Configuration.GetSection("Logging"))
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        })
        // Logs never mix with the summary on stdout.
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    private T Bind<T>(T config)
        where T : ClientConfig => KafkaSettings.Bind(Configuration.GetSection(KafkaSettings.Section), config);

    internal static string? ValidateUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? null
            : $"schema registry URL '{url}' is not an absolute http(s) URL";
}

/// <summary>The options every client verb takes: where Kafka and the registry are, the topic, and --json.</summary>
internal sealed class ClientOptions
{
    public Option<string?> BootstrapServers { get; } = new("--bootstrap-servers") { Description = "Kafka bootstrap servers (default localhost:9092)." };

    public Option<string?> SchemaRegistry { get; } = SchemaRegistryOption();

    public Option<string> Topic { get; } = CliOptions.Topic();

    public Option<bool> Json { get; } = JsonOption();

    public static Option<bool> JsonOption() => new("--json") { Description = "Print exactly one JSON document, the run's summary, on stdout; logs go to stderr." };

    public void AddTo(Command command)
    {
        command.Options.Add(BootstrapServers);
        command.Options.Add(SchemaRegistry);
        command.Options.Add(Topic);
        command.Options.Add(Json);
    }

    /// <returns>The settings, or an error message for bad configuration.</returns>
    public (AppSettings? Settings, string? Error) Load(ParseResult parseResult) =>
        AppSettings.Load(parseResult.GetValue(BootstrapServers), parseResult.GetValue(SchemaRegistry), parseResult.GetValue(Topic)!, parseResult.GetValue(Json));

    private static Option<string?> SchemaRegistryOption()
    {
        var option = new Option<string?>("--schema-registry") { Description = "Schema Registry URL (default http://localhost:8081)." };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } url && AppSettings.ValidateUrl(url) is { } error)
            {
                result.AddError(error);
            }
        });
        return option;
    }
}
