using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Monitoring.Tracing;
using Orders.RegistryClient;

namespace Orders.Cli.Settings;

/// <summary>Bad settings, from any source: one line naming the setting and what is wrong with it. Exit code 2.</summary>
internal sealed class SettingsException(string message) : Exception(message);

/// <summary>What a verb asks of its settings.</summary>
/// <param name="ConfigFile">The <c>--config</c> file, if given.</param>
/// <param name="Flags">The flags given, under the configuration keys they set (<c>Processor:GroupId</c>).</param>
/// <param name="UsesKafka">The verb talks to Kafka and the registry (every verb but <c>stack</c>).</param>
/// <param name="Defaults">A verb's own defaults (the demo's rate), below every other source.</param>
internal sealed record SettingsRequest(string? ConfigFile, IReadOnlyDictionary<string, string?> Flags, bool Json, bool UsesKafka = true, IReadOnlyDictionary<string, string?>? Defaults = null);

/// <summary>
/// Settings shared by the verbs. Precedence, lowest first: built-in defaults, appsettings.json
/// (beside the executable, then in the working directory), appsettings.{DOTNET_ENVIRONMENT}.json
/// (the same two places; <c>DOTNET_ENVIRONMENT=Secure</c> picks the secure example), the file
/// given with <c>--config</c>, environment variables (<c>Kafka__BootstrapServers</c>,
/// <c>Processor__GroupId</c>, any <c>Kafka__linger.ms</c>), flags. The <c>Kafka</c> section is bound
/// straight into the client configs, so any librdkafka property works; the <c>SchemaRegistry</c>
/// section likewise into Confluent's registry client (<see cref="SchemaRegistrySettings"/>), where
/// whichever source comes later wins, whatever name style (<c>Url</c>, <c>schema.registry.url</c>) it uses.
/// Everything is checked here, before anything connects (<see cref="SettingsCheck"/>).
/// </summary>
internal sealed class CliSettings
{
    private readonly IReadOnlyList<Action<IConfigurationBuilder>> _sources;
    private readonly Dictionary<string, string> _kafka;
    private readonly SchemaRegistryConfig _registry;

    private CliSettings(IReadOnlyList<Action<IConfigurationBuilder>> sources, IConfigurationRoot configuration, Dictionary<string, string> kafka, SchemaRegistryConfig registry, bool json)
    {
        _sources = sources;
        Configuration = configuration;
        _kafka = kafka;
        _registry = registry;
        Json = json;
        Redactor = new SecretRedactor(SecretRedactor.SecretsIn(kafka).Concat(SchemaRegistrySettings.SecretsIn(registry)));
        try
        {
            Tracing = TracingSettings.Read(configuration, Environment.GetEnvironmentVariable);
        }
        catch (TracingSettingsException e)
        {
            throw new SettingsException(e.Message);
        }
    }

    public IConfigurationRoot Configuration { get; }

    public bool Json { get; }

    /// <summary>Where traces go (the <c>OTEL_*</c> variables, the <c>OpenTelemetry</c> section); null when tracing is off.</summary>
    public TracingSettings? Tracing { get; }

    public string BootstrapServers => _kafka["bootstrap.servers"];

    /// <summary>The registry URL(s), without credentials (those moved to the basic-auth setting).</summary>
    public string SchemaRegistryUrl => _registry.Url;

    /// <summary>The topic of the processor's settings, which stats and dlq inspect too.</summary>
    /// <exception cref="SettingsException">Not a topic name Kafka accepts.</exception>
    public string ProcessorTopic
    {
        get
        {
            var topic = Configuration["Processor:Topic"] ?? Contracts.Topics.Orders;
            return Contracts.Topics.Validate(topic) is { } error ? throw new SettingsException($"Processor:Topic: {error}") : topic;
        }
    }

    /// <summary>Scrubs the configured secrets from text: what the loggers of <see cref="CreateLoggerFactory"/> apply to every line.</summary>
    public SecretRedactor Redactor { get; }

    /// <exception cref="SettingsException">Any setting, from any source, that cannot work.</exception>
    public static CliSettings Load(SettingsRequest request)
    {
        var file = request.ConfigFile is { } path ? SettingsFile.Read(path) : null;
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT");
        // Every appsettings.json before every appsettings.{environment}.json: the environment chosen wins over
        // a plain appsettings.json wherever that lies (one in the working directory overrode the executable's
        // appsettings.Secure.json under DOTNET_ENVIRONMENT=Secure).
        var folders = new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() }.Distinct().ToList();
        var jsonFiles = folders.Select(folder => Path.Combine(folder, "appsettings.json")).ToList();
        if (!string.IsNullOrWhiteSpace(environment))
        {
            jsonFiles.AddRange(folders.Select(folder => Path.Combine(folder, $"appsettings.{environment}.json")));
        }

        // Read through the bounded reader before the configuration library opens them: a FIFO of that name
        // would block its open for good, and a huge file fill memory.
        // A directory of that name is refused, as --config refuses one: ignored, the settings meant to be in it would be missed without a word.
        var found = jsonFiles.Where(f => File.Exists(f) || Directory.Exists(f)).Select(f => SettingsFile.Read(f, "settings file")).ToList();
        // Each file parsed first, so that a malformed one is named with its line and position (the configuration library says neither).
        SettingsCheck.Json([.. found, .. file is null ? [] : new[] { file }]);
        List<Action<IConfigurationBuilder>> sources =
        [
            b => b.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Kafka:BootstrapServers"] = "localhost:9092",
                ["SchemaRegistry:Url"] = SchemaRegistrySettings.DefaultUrl,
            }),
            b => b.AddInMemoryCollection(request.Defaults ?? new Dictionary<string, string?>()),
            // The bytes read and checked above, not the files again: what is checked is what is loaded.
            .. found.Select(f => (Action<IConfigurationBuilder>)(b => b.AddJsonStream(new MemoryStream(f.Bytes)))),
        ];
        if (file is not null)
        {
            sources.Add(b => b.AddJsonStream(new MemoryStream(file.Bytes)));
        }

        sources.Add(b => b.AddEnvironmentVariables());
        sources.Add(b => b.AddInMemoryCollection(request.Flags));

        var configuration = Build(sources, file?.Path);
        if (KafkaNamesResolved(configuration) is { Count: > 0 } resolved)
        {
            sources.Add(b => b.AddInMemoryCollection(resolved));
            configuration = Build(sources, file?.Path);
        }

        SettingsCheck.Sections(configuration, [.. found, .. file is null ? [] : new[] { file }]);
        return request.UsesKafka ? WithClients(sources, configuration, request.Json) : new CliSettings(sources, configuration, [], new SchemaRegistryConfig(), request.Json);
    }

    /// <summary>Adds the same sources, in the same order, to a host's configuration.</summary>
    public void AddSourcesTo(IConfigurationBuilder builder)
    {
        foreach (var add in _sources)
        {
            add(builder);
        }
    }

    public ProducerConfig ProducerConfig() => KafkaSettings.Bind(Configuration.GetSection(KafkaSettings.Section), new ProducerConfig());

    public ConsumerConfig ConsumerConfig() => KafkaSettings.Bind(Configuration.GetSection(KafkaSettings.Section), new ConsumerConfig());

    public AdminClientConfig AdminConfig() => KafkaSettings.Bind(Configuration.GetSection(KafkaSettings.Section), new AdminClientConfig());

    /// <summary>
    /// The consumer settings of the readers that join no group (<c>orders stats</c>, <c>orders dlq</c>), with the
    /// processors' group (<c>Processor:GroupId</c>, else its default) as the group they read for: their own
    /// ids derive from it (<see cref="ReaderGroups"/>), so a secured cluster's ACLs on that group cover them.
    /// </summary>
    /// <exception cref="SettingsException">Processor:GroupId is set but empty, or cannot be a group id.</exception>
    public ConsumerConfig ReaderConfig()
    {
        var group = Configuration["Processor:GroupId"] ?? Processor.Hosting.ProcessorOptions.DefaultGroup;
        if (ReaderGroups.Problem(group) is { } problem)
        {
            throw new SettingsException($"Processor:GroupId {problem}");
        }

        var config = ConsumerConfig();
        config.GroupId = group;
        return config;
    }

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

    /// <summary>
    /// The health check service logs each check that is not healthy, at every probe: with an orchestrator
    /// probing every few seconds, a line per failing check per probe (138 in 36 s measured during an outage),
    /// and an error line at each probe of a producer that has not sent yet. A probe's answer carries the
    /// reasons, and the processes log what they see themselves (a broker or the registry away). Off unless
    /// the Logging section sets this category (the filter comes before it, so the section wins).
    /// </summary>
    internal const string HealthChecksCategory = "Microsoft.Extensions.Diagnostics.HealthChecks";

    /// <summary>Loggers on stderr whose every line is scrubbed of the configured secrets.</summary>
    public ILoggerFactory CreateLoggerFactory() => RedactingLoggerFactory.Wrap(
        LoggerFactory.Create(builder => builder
            .AddFilter(HealthChecksCategory, LogLevel.None)
            .AddConfiguration(Configuration.GetSection("Logging"))
            // A host that fails to start says so with its stack trace; the verbs say it in one line instead.
            .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None)
            // Kestrel's "Now listening on" repeats the address the endpoint's own line gives with its paths.
            .AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning)
            // With tracing on, a line written inside a record's span carries its trace and span ids.
            .Configure(o => o.ActivityTrackingOptions = Tracing is null ? ActivityTrackingOptions.None : ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
                o.IncludeScopes = Tracing is not null;
            })
            // Logs never mix with the summary on stdout.
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)),
        Redactor);

    /// <summary>
    /// Under a live view (<c>demo</c>, <c>consume --live</c>): errors only, on stderr, since anything more
    /// would tear the view; scrubbed of secrets, and a host that fails to start says so in the verb's one
    /// line, as <see cref="CreateLoggerFactory"/> has it.
    /// </summary>
    public ILoggerFactory CreateLiveViewLoggerFactory() => RedactingLoggerFactory.Wrap(
        LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Error)
            .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None)
            .AddFilter(HealthChecksCategory, LogLevel.None)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)),
        Redactor);

    internal static string? ValidateUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && !string.IsNullOrEmpty(uri.Host)
            ? null
            : $"schema registry URL '{Redaction.Url(url)}' is not an absolute http(s) URL";

    private static IConfigurationRoot Build(List<Action<IConfigurationBuilder>> sources, string? file)
    {
        var builder = new ConfigurationBuilder();
        foreach (var add in sources)
        {
            add(builder);
        }

        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new SettingsException($"bad settings file{(file is null ? "" : $" {file}")}: {e.Message}");
        }
    }

    /// <summary>
    /// Client properties every client sets itself, over the <c>Kafka</c> section: set there they would
    /// be replaced without a word, so they are refused, saying where the decision lives.
    /// </summary>
    private static readonly Dictionary<string, string> Owned = new(StringComparer.Ordinal)
    {
        ["group.id"] = "the processors' group is Processor:GroupId (--group); set it there",
        ["enable.auto.offset.store"] = "the processor stores a partition's offset once a checkpoint covers it, whatever this says; remove it",
        ["enable.auto.commit"] = "the processor has librdkafka commit the offsets it stored, whatever this says; remove it",
        ["auto.offset.reset"] = "where a partition resumes is its checkpoint's (past what retention deleted, its start, counted as lost), whatever this says; remove it",
        ["enable.idempotence"] = "every producer here is idempotent (a retry neither duplicates nor reorders), whatever this says; remove it",
        ["acks"] = "every write waits for all in-sync replicas (acks=all: nothing acknowledged is lost), whatever this says; remove it",
        ["request.required.acks"] = "every write waits for all in-sync replicas (acks=all: nothing acknowledged is lost), whatever this says; remove it",
        ["transactional.id"] = "the producers here are idempotent, not transactional (exactness comes from checkpoints that carry their offsets, docs/RELIABILITY.md); with it every send failed at run time; remove it",
    };

    private static CliSettings WithClients(List<Action<IConfigurationBuilder>> sources, IConfigurationRoot configuration, bool json)
    {
        // First: a setting the clients own is refused with why, before librdkafka refuses it with its own words
        // (acks=1 against the idempotence the check assumes).
        foreach (var (key, value) in configuration.GetSection(KafkaSettings.Section).AsEnumerable(makePathsRelative: true))
        {
            if (value is not null && Owned.TryGetValue(KafkaSettings.LibrdkafkaName(key), out var why))
            {
                throw new SettingsException($"{KafkaSettings.Section}:{key}: {why}");
            }
        }

        try
        {
            KafkaSettingsCheck.Validate(configuration.GetSection(KafkaSettings.Section));
        }
        catch (KafkaConfigurationException e)
        {
            throw new SettingsException(e.Message);
        }

        // What the clients will get (the processor's host binds the same section the same way).
        var kafka = KafkaSettings.Bind(configuration.GetSection(KafkaSettings.Section), new ClientConfig())
            .ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        try
        {
            var registry = SchemaRegistrySettings.Build(Entries(configuration, SchemaRegistrySettings.Section), kafka);
            var settings = new CliSettings(sources, configuration, kafka, registry, json);

            // Checked here, before any verb builds a client for it.
            _ = settings.ProcessorTopic;
            return settings;
        }
        catch (SchemaRegistryConfigurationException e)
        {
            throw new SettingsException(e.Message);
        }
    }

    /// <summary>
    /// A Kafka property given under both its names (<c>bootstrap.servers</c> in a file, <c>Kafka__BootstrapServers</c> or
    /// <c>--bootstrap-servers</c> over it): the clients' binder reads both and keeps whichever it reads last, whatever
    /// the sources' order, so a flag or an environment variable could lose to a file. The source that ranks highest
    /// decides: its value, set under every name the property was given (a last source over all the others).
    /// </summary>
    /// <returns>The keys to set, empty when no property has two names.</returns>
    /// <exception cref="SettingsException">One source gives a property under two names: which it meant cannot be told.</exception>
    private static Dictionary<string, string?> KafkaNamesResolved(IConfigurationRoot configuration)
    {
        var winner = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var provider in configuration.Providers)
        {
            var here = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var key in provider.GetChildKeys([], KafkaSettings.Section).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!provider.TryGet($"{KafkaSettings.Section}:{key}", out var value) || value is null)
                {
                    continue;
                }

                var name = KafkaSettings.LibrdkafkaName(key);
                OneNamePerSource(here, KafkaSettings.Section, name, key);
                winner[name] = value;
                if (!keys.TryGetValue(name, out var names))
                {
                    keys[name] = names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
                }

                names.Add(key);
            }
        }

        return keys.Where(k => k.Value.Count > 1)
            .SelectMany(k => k.Value.Select(key => (Key: $"{KafkaSettings.Section}:{key}", Value: winner[k.Key])))
            .ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Notes that one source gives <paramref name="setting"/> as <paramref name="key"/>; refuses a second name for it there.</summary>
    /// <param name="here">The source's settings so far: each setting, and the name it was given under.</param>
    /// <exception cref="SettingsException">The source gave the setting under another name too: which it meant cannot be told.</exception>
    private static void OneNamePerSource(Dictionary<string, string> here, string section, string setting, string key)
    {
        if (!here.TryAdd(setting, key))
        {
            throw new SettingsException($"{section}: {here[setting]} and {key} are one setting ({setting}) given twice in one place: keep one");
        }
    }

    /// <summary>
    /// A section's entries source by source, lowest precedence first, so that a later source wins
    /// even when it names a setting differently (appsettings.json's <c>Url</c>, then the
    /// environment's <c>schema.registry.url</c>). A null value marks a subsection.
    /// </summary>
    /// <exception cref="SettingsException">One source gives a setting under two names (<c>Url</c> and <c>schema.registry.url</c>): which it meant cannot be told.</exception>
    private static IEnumerable<(string Path, string Name, string? Value)> Entries(IConfigurationRoot configuration, string section)
    {
        foreach (var provider in configuration.Providers)
        {
            var here = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in provider.GetChildKeys([], section).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (SchemaRegistrySettings.PropertyOf(name) is { } property)
                {
                    OneNamePerSource(here, section, property, name);
                }

                var path = $"{section}:{name}";
                yield return (path, name, provider.TryGet(path, out var value) ? value : null);
            }
        }
    }
}
