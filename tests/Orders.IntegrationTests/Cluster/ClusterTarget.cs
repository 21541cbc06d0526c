using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Configuration;
using Orders.Contracts;
using Orders.IntegrationTests.Infrastructure;
using Orders.Kafka;
using Orders.LocalStack;
using Orders.RegistryClient;

namespace Orders.IntegrationTests.Cluster;

/// <summary>
/// The cluster the <c>Cluster</c> lane runs against. With <c>ORDERS_TEST_BOOTSTRAP</c> and
/// <c>ORDERS_TEST_REGISTRY</c> set, an existing one: a Kafka cluster and Schema Registry of any kind,
/// credentials given as to <c>orders</c> itself (<c>Kafka__*</c>, <c>SchemaRegistry__*</c>), which the
/// lane's own clients read too. Without them, a local stack of its own in this process, so that
/// <c>dotnet test</c> runs the lane everywhere. Every topic and subject a test makes is uniquely
/// named and deleted at the end: nothing shared is left behind, and the lane can run again.
/// </summary>
public sealed class ClusterTarget : IAsyncLifetime
{
    public const string BootstrapVariable = "ORDERS_TEST_BOOTSTRAP";
    public const string RegistryVariable = "ORDERS_TEST_REGISTRY";

    private readonly ConcurrentBag<string> _topics = [];
    private LocalStackHost? _stack;

    public string BootstrapServers { get; private set; } = "";

    public string RegistryUrl { get; private set; } = "";

    /// <summary>True when the lane runs against a cluster it did not start.</summary>
    public bool External { get; private set; }

    /// <summary>Connection settings for the lane's own clients: the bootstrap servers and the <c>Kafka</c> section of the environment.</summary>
    public ClientConfig Client { get; private set; } = new();

    /// <summary>Registry settings for the lane's own clients: the URL and the <c>SchemaRegistry</c> section of the environment.</summary>
    public SchemaRegistryConfig Registry { get; private set; } = new();

    public async ValueTask InitializeAsync()
    {
        var bootstrap = Environment.GetEnvironmentVariable(BootstrapVariable);
        var registry = Environment.GetEnvironmentVariable(RegistryVariable);
        if (string.IsNullOrEmpty(bootstrap) != string.IsNullOrEmpty(registry))
        {
            throw new InvalidOperationException($"set both {BootstrapVariable} and {RegistryVariable} (the cluster and its Schema Registry), or neither");
        }

        if (string.IsNullOrEmpty(bootstrap))
        {
            _stack = await LocalStackHost.StartAsync(new LocalStackOptions { KafkaPort = 0, RegistryPort = 0, Topic = StackFixture.Unique("lane-unused") });
            (bootstrap, registry) = (_stack.BootstrapServers, _stack.SchemaRegistryUrl);
        }

        External = _stack is null;
        BootstrapServers = bootstrap;
        RegistryUrl = registry!;
        var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
        Client = KafkaSettings.Bind(environment.GetSection(KafkaSettings.Section), new ClientConfig());
        Client.BootstrapServers = BootstrapServers;
        var registrySettings = environment.GetSection("SchemaRegistry").AsEnumerable(makePathsRelative: true)
            .Where(s => s.Value is not null && !s.Key.Equals("Url", StringComparison.OrdinalIgnoreCase))
            .Select(s => ($"SchemaRegistry:{s.Key}", s.Key, (string?)s.Value))
            .Append(("SchemaRegistry:Url", "Url", RegistryUrl));
        Registry = SchemaRegistrySettings.Build(registrySettings, Client.ToDictionary(p => p.Key, p => p.Value));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DeleteWhatTheTestsMadeAsync();
        }
        finally
        {
            if (_stack is not null)
            {
                await _stack.DisposeAsync();
            }
        }
    }

    /// <summary>The flags that point <c>orders</c> at the cluster (credentials reach it from the environment).</summary>
    public string[] Endpoints(string topic) => ["--bootstrap-servers", BootstrapServers, "--schema-registry", RegistryUrl, "--topic", topic];

    /// <summary>A fresh orders topic; the processor creates its dead-letter and stats topics. All three are deleted at the end.</summary>
    public async Task<string> CreateInputTopicAsync(string prefix, int partitions)
    {
        var topic = $"lane-{prefix}-{Guid.NewGuid():N}";
        _topics.Add(topic);
        using var admin = Admin();
        await admin.CreateTopicsAsync([new TopicSpecification { Name = topic, NumPartitions = partitions, ReplicationFactor = -1 }]);
        return topic;
    }

    public IAdminClient Admin() => new AdminClientBuilder(new AdminClientConfig(new Dictionary<string, string>(Client))).Build();

    public IProducer<TKey, TValue> Producer<TKey, TValue>(Action<ProducerBuilder<TKey, TValue>>? configure = null)
    {
        var builder = new ProducerBuilder<TKey, TValue>(new ProducerConfig(new Dictionary<string, string>(Client)) { EnableIdempotence = true, LingerMs = 5 });
        configure?.Invoke(builder);
        return builder.Build();
    }

    private async Task DeleteWhatTheTestsMadeAsync()
    {
        var made = _topics.SelectMany(t => new[] { t, Topics.DeadLetterFor(t), Topics.StatsFor(t) }).ToList();
        if (made.Count == 0)
        {
            return;
        }

        using (var admin = Admin())
        {
            var existing = admin.GetMetadata(TimeSpan.FromSeconds(30)).Topics.Select(t => t.Topic).ToHashSet();
            var doomed = made.Where(existing.Contains).ToList();
            if (doomed.Count > 0)
            {
                await admin.DeleteTopicsAsync(doomed);
            }
        }

        using var registry = new CachedSchemaRegistryClient(Registry);
        var subjects = (await registry.GetAllSubjectsAsync()).Where(s => made.Any(t => s == $"{t}-value" || s == $"{t}-key")).ToList();
        if (subjects.Count == 0)
        {
            return;
        }

        // Confluent's client has no delete: the REST API's, soft then permanent, as Confluent's registry requires,
        // authenticated as the client is (SASL_INHERIT, a bearer token, the CA file: the same settings).
        using var http = await RegistryHttp.CreateAsync(Registry);
        var left = new List<string>();
        foreach (var subject in subjects)
        {
            foreach (var query in (string[])["", "?permanent=true"])
            {
                using var answer = await http.DeleteAsync($"subjects/{Uri.EscapeDataString(subject)}{query}");
                if (!answer.IsSuccessStatusCode)
                {
                    left.Add($"{subject} ({(int)answer.StatusCode} to DELETE{query})");
                    break;
                }
            }
        }

        if (left.Count > 0)
        {
            throw new InvalidOperationException($"the lane could not delete the subjects it registered: {string.Join(", ", left)}; delete them by hand");
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterTarget>
{
    public const string Name = "cluster lane";
}
