using System.CommandLine;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Orders.Kafka;

namespace Orders.Cli.Commands;

/// <summary>
/// Settings shared by the verbs. Precedence, lowest first: built-in defaults, appsettings.json
/// (beside the executable, then in the working directory), appsettings.{DOTNET_ENVIRONMENT}.json
/// (the same two places; <c>DOTNET_ENVIRONMENT=Secure</c> picks the secure example), the file
/// given with <c>--config</c>, environment variables (<c>Kafka__BootstrapServers</c>,
/// <c>SchemaRegistry__Url</c>, any <c>Kafka__linger.ms</c>), flags.
/// The <c>Kafka</c> section is bound straight into the client configs, so any librdkafka property
/// works; the <c>SchemaRegistry</c> section likewise into Confluent's registry client
/// (<see cref="SchemaRegistrySettings"/>), where whichever source comes later wins, whatever name
/// style (<c>Url</c>, <c>schema.registry.url</c>) it uses.
/// </summary>
internal sealed class AppSettings
{
    private readonly Dictionary<string, string> _kafka;
    private readonly SchemaRegistryConfig _registry;

    private AppSettings(IConfiguration configuration, Dictionary<string, string> kafka, SchemaRegistryConfig registry, string topic, bool json)
    {
        Configuration = configuration;
        _kafka = kafka;
        _registry = registry;
        Topic = topic;
        Json = json;
        Redactor = new SecretRedactor(SecretRedactor.SecretsIn(kafka).Concat(SchemaRegistrySettings.SecretsIn(registry)));
    }

    public IConfiguration Configuration { get; }

    public string Topic { get; }

    public bool Json { get; }

    public string BootstrapServers => _kafka["bootstrap.servers"];

    /// <summary>The registry URL(s), without credentials (those moved to the basic-auth setting).</summary>
    public string SchemaRegistryUrl => _registry.Url;

    /// <summary>Scrubs the configured secrets from text: what the loggers of <see cref="CreateLoggerFactory"/> apply to every line.</summary>
    public SecretRedactor Redactor { get; }

    /// <returns>The settings, or an error message for bad configuration.</returns>
    public static (AppSettings? Settings, string? Error) Load(
        string? bootstrapServers, string? schemaRegistry, string topic, bool json, string? configFile = null)
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

        if (configFile is not null && !File.Exists(configFile))
        {
            return (null, $"--config {configFile}: file not found");
        }

        IConfigurationRoot configuration;
        try
        {
            var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT");
            var builder = new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?>
                {
                    ["Kafka:BootstrapServers"] = "localhost:9092",
                    ["SchemaRegistry:Url"] = SchemaRegistrySettings.DefaultUrl,
                });
            foreach (var folder in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                builder.AddJsonFile(Path.Combine(folder, "appsettings.json"), optional: true);
                if (!string.IsNullOrWhiteSpace(environment))
                {
                    builder.AddJsonFile(Path.Combine(folder, $"appsettings.{environment}.json"), optional: true);
                }
            }

            if (configFile is not null)
            {
                builder.AddJsonFile(Path.GetFullPath(configFile), optional: false);
            }

            configuration = builder
                .AddEnvironmentVariables()
                .AddInMemoryCollection(overrides)
                .Build();
        }
        catch (InvalidDataException e)
        {
            return (null, $"bad settings file: {e.Message}");
        }

        // What the clients will get (the processor host binds the same section the same way).
        var kafka = KafkaSettings.Bind(configuration.GetSection(KafkaSettings.Section), new ClientConfig())
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(kafka.GetValueOrDefault("bootstrap.servers")))
        {
            return (null, "Kafka bootstrap servers are empty: set --bootstrap-servers or Kafka__BootstrapServers");
        }

        SchemaRegistryConfig registry;
        try
        {
            registry = SchemaRegistrySettings.Build(Entries(configuration, SchemaRegistrySettings.Section), kafka);
        }
        catch (SchemaRegistryConfigurationException e)
        {
            return (null, e.Message);
        }

        return (new AppSettings(configuration, kafka, registry, topic, json), null);
    }

    public ProducerConfig ProducerConfig() => Bind(new ProducerConfig());

    public ConsumerConfig ConsumerConfig() => Bind(new ConsumerConfig());

    /// <summary>A copy of the registry client configuration every verb uses.</summary>
    public SchemaRegistryConfig SchemaRegistryConfig()
    {
        var copy = new SchemaRegistryConfig();
        foreach (var (key, value) in _registry)
        {
            copy.Set(key, value);
        }

        return copy;
    }

    /// <summary>The registry client of every verb, and of our serdes with it: one place builds it.</summary>
    public CachedSchemaRegistryClient SchemaRegistryClient() => SchemaRegistrySettings.CreateClient(_registry);

    /// <summary>One line when the registry rejects the configured credentials, else null (see <see cref="SchemaRegistryPreflight"/>).</summary>
    public Task<string?> CheckRegistryCredentialsAsync(CancellationToken cancellationToken) =>
        SchemaRegistryPreflight.CheckCredentialsAsync(_registry, cancellationToken);

    /// <summary>Loggers on stderr whose every line is scrubbed of the configured secrets.</summary>
    public ILoggerFactory CreateLoggerFactory() => RedactingLoggerFactory.Wrap(
        LoggerFactory.Create(builder => builder
            .AddConfiguration(Configuration.GetSection("Logging"))
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            })
            // Logs never mix with the summary on stdout.
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)),
        Redactor);

    private T Bind<T>(T config)
        where T : ClientConfig => KafkaSettings.Bind(Configuration.GetSection(KafkaSettings.Section), config);

    /// <summary>
    /// A section's entries source by source, lowest precedence first, so that a later source wins
    /// even when it names a setting differently (appsettings.json's <c>Url</c>, then the
    /// environment's <c>schema.registry.url</c>). A null value marks a subsection.
    /// </summary>
    private static IEnumerable<(string Path, string Name, string? Value)> Entries(IConfigurationRoot configuration, string section)
    {
        foreach (var provider in configuration.Providers)
        {
            foreach (var name in provider.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                var path = $"{section}:{name}";
                yield return (path, name, provider.TryGet(path, out var value) ? value : null);
            }
        }
    }

    internal static string? ValidateUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? null
            : $"schema registry URL '{Redaction.Url(url)}' is not an absolute http(s) URL";
}

/// <summary>The options every client verb takes: where Kafka and the registry are, the topic, and --json.</summary>
internal sealed class ClientOptions
{
    public Option<string?> BootstrapServers { get; } = new("--bootstrap-servers") { Description = "Kafka bootstrap servers (default localhost:9092)." };

    public Option<string?> SchemaRegistry { get; } = SchemaRegistryOption();

    public Option<string> Topic { get; } = CliOptions.Topic();

    public Option<bool> Json { get; } = JsonOption();

    public Option<FileInfo?> Config { get; } = new("--config")
    {
        Description = "A settings file in the appsettings.json format (e.g. appsettings.Secure.json), over appsettings.json; environment variables and flags still win.",
    };

    public static Option<bool> JsonOption() => new("--json") { Description = "Print exactly one JSON document, the run's summary, on stdout; logs go to stderr." };

    public void AddTo(Command command)
    {
        command.Options.Add(BootstrapServers);
        command.Options.Add(SchemaRegistry);
        command.Options.Add(Topic);
        command.Options.Add(Json);
        command.Options.Add(Config);
    }

    /// <returns>The settings, or an error message for bad configuration.</returns>
    public (AppSettings? Settings, string? Error) Load(ParseResult parseResult) =>
        AppSettings.Load(
            parseResult.GetValue(BootstrapServers), parseResult.GetValue(SchemaRegistry), parseResult.GetValue(Topic)!, parseResult.GetValue(Json),
            parseResult.GetValue(Config)?.FullName);

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
