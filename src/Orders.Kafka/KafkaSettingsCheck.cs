using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>
/// Checks the <c>Kafka</c> section before any client connects, so that a bad setting is one line
/// naming the setting as the user wrote it: the bootstrap list parses as host:port pairs; every
/// property is one librdkafka knows (else "did you mean"), with a value it takes (librdkafka's own
/// check, through a client with no bootstrap servers, which connects nowhere); and the whole set is
/// accepted together. librdkafka names aliases by their canonical name (<c>linger.ms</c> is
/// <c>queue.buffering.max.ms</c> to it): the message names the user's.
/// </summary>
public static partial class KafkaSettingsCheck
{
    private static readonly Lazy<IReadOnlyList<string>> KnownProperties = new(ListProperties);

    /// <exception cref="KafkaConfigurationException">A setting librdkafka would refuse, or a bootstrap list that cannot be parsed.</exception>
    public static void Validate(IConfiguration section)
    {
        var settings = section.AsEnumerable(makePathsRelative: true).Where(s => s.Value is not null).ToList();
        var config = KafkaSettings.Bind(section, new ClientConfig());
        if (BootstrapError(config.BootstrapServers) is { } bootstrap)
        {
            throw new KafkaConfigurationException($"{KafkaSettings.Section}:BootstrapServers: {bootstrap}", null);
        }

        foreach (var (key, value) in settings)
        {
            var name = KafkaSettings.LibrdkafkaName(key);
            if (name == "bootstrap.servers")
            {
                continue;
            }

            if (FileProperties.Contains(name) && MissingFile(value!) is { } missing)
            {
                throw new KafkaConfigurationException($"{KafkaSettings.Section}:{key}: {missing}", null);
            }

            if (Refusal(new Dictionary<string, string> { [name] = value! }, alone: true) is { } reason)
            {
                throw new KafkaConfigurationException(Describe(key, name, value!, reason), null);
            }
        }

        // Together: what depends on the others (a SASL mechanism this build of librdkafka has, a CA file that exists).
        var all = KafkaSettings.Bind(section, new ClientConfig()).Where(p => p.Key != "bootstrap.servers").ToDictionary(p => p.Key, p => p.Value);
        // As the producers run: every one here is idempotent (the setting itself is the clients' own), so what needs
        // idempotence passes (enable.gapless.guarantee) and what idempotence forbids is refused (max.in.flight above 5).
        all["enable.idempotence"] = "true";
        if (Refusal(all, alone: false) is { } combined)
        {
            throw new KafkaConfigurationException($"invalid Kafka configuration: {combined}", null);
        }
    }

    /// <summary>
    /// Properties that name a file (or, for the CA locations, a folder, or <c>probe</c>). librdkafka opens them
    /// only when the security protocol uses them, and then says "BIO lib" for one that is missing.
    /// </summary>
    private static readonly HashSet<string> FileProperties =
    [
        "ssl.ca.location", "ssl.crl.location", "ssl.key.location", "ssl.certificate.location", "ssl.keystore.location", "sasl.kerberos.keytab",
        "https.ca.location", "sasl.oauthbearer.assertion.private.key.file", "sasl.oauthbearer.assertion.file", "sasl.oauthbearer.assertion.jwt.template.file",
    ];

    private static string? MissingFile(string value) =>
        value.Length == 0 || value == "probe" || File.Exists(value) || Directory.Exists(value) ? null : $"file '{value}' does not exist";

    /// <returns>Why a bootstrap list cannot be used, or null when every entry is host:port with a port from 1 to 65535.</returns>
    public static string? BootstrapError(string? servers)
    {
        if (string.IsNullOrWhiteSpace(servers))
        {
            return "empty: set --bootstrap-servers or Kafka__BootstrapServers (host:port, comma-separated)";
        }

        foreach (var raw in servers.Split(',', StringSplitOptions.TrimEntries))
        {
            var entry = raw.Contains("://", StringComparison.Ordinal) ? raw[(raw.IndexOf("://", StringComparison.Ordinal) + 3)..] : raw;
            var match = HostPort().Match(entry);
            if (!match.Success
                || !int.TryParse(match.Groups["port"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                || port is < 1 or > 65535)
            {
                return $"'{raw}' is not host:port (a host name or address, and a port from 1 to 65535)";
            }
        }

        return null;
    }

    /// <returns>librdkafka's complaint about these properties, or null when it takes them.</returns>
    /// <param name="alone">One property on its own: only a value librdkafka refuses as such counts (whether a client can be made
    /// of it also depends on the others: <c>security.protocol=SASL_PLAINTEXT</c> needs a <c>sasl.mechanism</c> this build has).</param>
    private static string? Refusal(Dictionary<string, string> properties, bool alone)
    {
        try
        {
            // No bootstrap servers: librdkafka checks the configuration and connects nowhere.
            using var client = new ProducerBuilder<Null, Null>(properties).SetLogHandler((_, _) => { }).SetErrorHandler((_, _) => { }).Build();
            return null;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KafkaException or FormatException)
        {
            // FormatException: a dotnet.* property Confluent.Kafka itself parses (dotnet.producer.enable.background.poll=maybe).
            return !alone || e is ArgumentException or FormatException || e.Message.StartsWith("No such configuration property", StringComparison.Ordinal) ? e.Message : null;
        }
    }

    private static string Describe(string key, string name, string value, string reason)
    {
        var path = $"{KafkaSettings.Section}:{key}";
        if (reason.StartsWith("No such configuration property", StringComparison.Ordinal))
        {
            return $"{path}: librdkafka has no such property{Suggestions.DidYouMean(name, KnownProperties.Value)}";
        }

        // librdkafka names the canonical name of an alias; the user wrote another. A secret is never shown.
        var shown = Redaction.IsSecretSetting(name) ? "***" : value;
        var said = value.Length > 0 ? reason.Replace(value, shown, StringComparison.Ordinal) : reason;
        said = QuotedProperty().Replace(said, $"property \"{key}\"");
        return $"{path}: '{shown}' is refused: {said}";
    }

    /// <summary>Every librdkafka property Confluent.Kafka's config classes name, for suggestions.</summary>
    private static List<string> ListProperties()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in new[] { typeof(ProducerConfig), typeof(ConsumerConfig), typeof(AdminClientConfig) })
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0))
            {
                names.Add(KafkaSettings.LibrdkafkaName(property.Name));
            }
        }

        return [.. names];
    }

    [GeneratedRegex(@"^(?<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.\-]+):(?<port>[0-9]{1,5})$")]
    private static partial Regex HostPort();

    [GeneratedRegex("property \"[a-z0-9._]+\"")]
    private static partial Regex QuotedProperty();
}
