using System.Globalization;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>
/// The Kafka protocol APIs a broker offers, from its ApiVersions answer, the way librdkafka itself
/// learns them (which is what decides whether a client feature works: librdkafka checks this table
/// before it sends, e.g., a KIP-848 ConsumerGroupHeartbeat). Confluent.Kafka does not expose the
/// table, but librdkafka logs it at debug level <c>feature</c> when it connects; <see cref="ProbeAsync"/>
/// makes a short-lived client with the caller's connection settings (TLS, SASL and all), asks for
/// metadata so that it connects, and reads the table from those lines.
/// </summary>
public sealed partial class BrokerApis
{
    /// <summary>KIP-848's consumer group heartbeat: a broker that lacks it has no <c>group.protocol=consumer</c>.</summary>
    public const short ConsumerGroupHeartbeat = 68;

    /// <summary>The classic group protocol's join.</summary>
    public const short JoinGroup = 11;

    private readonly IReadOnlyDictionary<short, (short Min, short Max)> _apis;

    public BrokerApis(string broker, IReadOnlyDictionary<short, (short Min, short Max)> apis)
    {
        Broker = broker;
        _apis = apis;
    }

    /// <summary>The broker that answered, as librdkafka names it (e.g. <c>localhost:9092/1</c>).</summary>
    public string Broker { get; }

    public bool Offers(short apiKey) => _apis.ContainsKey(apiKey);

    /// <returns>The version range the broker offers, or null when it lacks the API.</returns>
    public (short Min, short Max)? Versions(short apiKey) => _apis.TryGetValue(apiKey, out var range) ? range : null;

    /// <summary>Asks a broker of the cluster for the APIs it offers.</summary>
    /// <param name="clientConfig">Connection settings (bootstrap servers, security); other settings are dropped.</param>
    /// <returns>The table of the first broker librdkafka read one from, or null when none arrived (<c>api.version.request=false</c>).</returns>
    /// <exception cref="KafkaException">No broker answered within <paramref name="timeout"/>.</exception>
    public static async Task<BrokerApis?> ProbeAsync(ClientConfig clientConfig, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var config = new AdminClientConfig(ConnectionSettings(clientConfig))
        {
            Debug = "feature",
        };
        var lines = new List<string>();
        var gate = new Lock();
        using var admin = new AdminClientBuilder(config)
            .SetLogHandler((_, message) =>
            {
                // Only the table is wanted; everything else the probe client says is dropped (the caller's
                // own clients report connection problems).
                if (message.Facility == "APIVERSION")
                {
                    lock (gate)
                    {
                        lines.Add(message.Message);
                    }
                }
            })
            .SetErrorHandler((_, _) => { })
            .Build();
        // Metadata makes the client connect; librdkafka logs a broker's table before it sends anything else there.
        await BlockingCall.RunAsync(() => admin.GetMetadata(timeout), cancellationToken);
        lock (gate)
        {
            return Parse(lines);
        }
    }

    /// <summary>Reads librdkafka's <c>APIVERSION</c> debug lines ("&lt;broker&gt;:   ApiKey Name (68) Versions 1..1").</summary>
    /// <returns>The table of the first broker named in them, or null when they hold none.</returns>
    public static BrokerApis? Parse(IEnumerable<string> lines)
    {
        string? broker = null;
        var apis = new Dictionary<short, (short, short)>();
        foreach (var line in lines)
        {
            var match = ApiLine().Match(line);
            if (!match.Success)
            {
                continue;
            }

            var name = match.Groups["broker"].Value;
            broker ??= name;
            if (name != broker)
            {
                continue;
            }

            apis[Short(match, "key")] = (Short(match, "min"), Short(match, "max"));
        }

        return broker is null ? null : new BrokerApis(broker, apis);
    }

    private static short Short(Match match, string group) => short.Parse(match.Groups[group].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    // Neither a consumer's nor a producer's own settings (librdkafka would warn about a consumer's on an admin
    // client, a producer handle), nor the statistics, debug and log level of the client the settings came from.
    private static Dictionary<string, string> ConnectionSettings(ClientConfig config) =>
        config.Where(p => !PropertyScopes.ConsumerOnly.Contains(p.Key) && !PropertyScopes.ProducerOnly.Contains(p.Key)
                && !p.Key.StartsWith("dotnet.", StringComparison.Ordinal) && p.Key is not ("debug" or "log_level" or "statistics.interval.ms"))
            .ToDictionary(p => p.Key, p => p.Value);

    [GeneratedRegex(@"(?<broker>\S+):\s+ApiKey \S+ \((?<key>-?\d+)\) Versions (?<min>-?\d+)\.\.(?<max>-?\d+)")]
    private static partial Regex ApiLine();
}
