using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>A topic a component needs, with the configs it must have (e.g. <c>cleanup.policy=compact</c>) and those it would like.</summary>
public sealed record TopicRequirement(string Name, int Partitions)
{
    /// <summary>Configs the topic is useless without: if the cluster refuses them, creating it fails.</summary>
    public IReadOnlyDictionary<string, string> Configs { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Configs the topic can live without (tuning): if the cluster refuses them (a policy forbids a
    /// value), the topic is created with <see cref="Configs"/> alone and a warning says so.
    /// </summary>
    public IReadOnlyDictionary<string, string> OptionalConfigs { get; init; } = new Dictionary<string, string>();

    /// <summary>Replicas of each partition; -1: the cluster's <c>default.replication.factor</c>.</summary>
    public short ReplicationFactor { get; init; } = -1;
}

public enum TopicOutcome
{
    Created,

    /// <summary>The cluster refused the optional configs; the topic was created with the required ones alone.</summary>
    CreatedWithoutOptionalConfigs,

    /// <summary>It was there already (perhaps created by another instance a moment ago) with the right partition count.</summary>
    AlreadyExisted,
}

public sealed record ProvisionedTopic(string Name, int Partitions, TopicOutcome Outcome, string? RefusedConfigsReason = null);

/// <summary>A topic the provisioner cannot make usable: it exists with another partition count, or the cluster refused it.</summary>
public sealed class TopicProvisioningException(string topic, string message, Exception? inner = null) : Exception(message, inner)
{
    public string Topic { get; } = topic;
}

/// <summary>
/// Makes sure topics exist with the partition counts a component relies on, through the admin API,
/// the same way on a real cluster and on the local stack: creates the missing ones, tolerates
/// another instance creating them at the same moment, and checks the partition count of those that
/// exist (co-partitioned topics are useless with another count). Existing topics' configs are left
/// as they are (<see cref="ConfigsAsync"/> reads them, for the caller to judge).
/// </summary>
/// <example>
/// <code>
/// using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = servers }).Build();
/// var topics = new TopicProvisioner(admin, logger);
/// var partitions = await topics.PartitionCountAsync("orders", ct) ?? throw ...;
/// await topics.EnsureAsync(
///     [new TopicRequirement("orders_dlq", partitions),
///      new TopicRequirement("orders_stats", partitions)
///      {
///          Configs = new Dictionary&lt;string, string&gt; { ["cleanup.policy"] = "compact" },
///          OptionalConfigs = new Dictionary&lt;string, string&gt; { ["segment.ms"] = "600000" },
///          ReplicationFactor = 3,
///      }],
///     ct);
/// </code>
/// </example>
public sealed partial class TopicProvisioner(IAdminClient admin, ILogger? logger = null, TimeProvider? time = null)
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MetadataRetryDelay = TimeSpan.FromMilliseconds(200);
    private const int MetadataAttempts = 10;

    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The topic's partition count, or null if it does not exist. Never creates it.</summary>
    public async Task<int?> PartitionCountAsync(string topic, CancellationToken cancellationToken = default)
    {
        var counts = await PartitionCountsAsync(cancellationToken);
        return counts.TryGetValue(topic, out var count) ? count : null;
    }

    /// <summary>Creates the missing topics and checks the partition count of all of them.</summary>
    /// <exception cref="TopicProvisioningException">A topic exists with another partition count, or the cluster refused to create it.</exception>
    public async Task<IReadOnlyList<ProvisionedTopic>> EnsureAsync(IEnumerable<TopicRequirement> topics, CancellationToken cancellationToken = default)
    {
        var required = topics.ToList();
        var existing = await PartitionCountsAsync(cancellationToken);
        var results = new Dictionary<string, ProvisionedTopic>();
        foreach (var topic in required.Where(t => existing.ContainsKey(t.Name)))
        {
            results[topic.Name] = Existing(topic, existing[topic.Name]);
        }

        var missing = required.Where(t => !existing.ContainsKey(t.Name)).ToList();
        foreach (var (topic, firstError) in await CreateAsync(missing, withOptional: true, cancellationToken))
        {
            var error = firstError;
            if (error.Code is ErrorCode.PolicyViolation or ErrorCode.InvalidConfig && topic.OptionalConfigs.Count > 0)
            {
                // Refused configs the topic can live without: create it with the required ones alone, and say so.
                var retry = await CreateAsync([topic], withOptional: false, cancellationToken);
                if (retry.Count == 0)
                {
                    OptionalConfigsRefused(_logger, topic.Name, Describe(topic.OptionalConfigs), error.Reason);
                    Created(topic, withOptional: false);
                    results[topic.Name] = new ProvisionedTopic(topic.Name, topic.Partitions, TopicOutcome.CreatedWithoutOptionalConfigs, error.Reason);
                    continue;
                }

                error = retry[0].Error;
            }

            if (error.Code == ErrorCode.TopicAlreadyExists)
            {
                // Another instance won the race: it counts as there, if its partition count is right.
                results[topic.Name] = Existing(topic, await PartitionCountAfterRaceAsync(topic.Name, cancellationToken));
                continue;
            }

            var configs = topic.Configs.Count > 0 ? $", {Describe(topic.Configs)}" : "";
            throw new TopicProvisioningException(topic.Name, $"cannot create topic '{topic.Name}' ({topic.Partitions} partitions{configs}): {error.Code}: {error.Reason}");
        }

        foreach (var topic in missing.Where(t => !results.ContainsKey(t.Name)))
        {
            Created(topic, withOptional: true);
            results[topic.Name] = new ProvisionedTopic(topic.Name, topic.Partitions, TopicOutcome.Created);
        }

        return [.. required.Select(t => results[t.Name])];
    }

    /// <summary>The largest record batch a topic takes (its <c>max.message.bytes</c>) among its configs, or null when they do not say.</summary>
    public static int? MaxMessageBytes(IReadOnlyDictionary<string, string> configs) =>
        configs.TryGetValue("max.message.bytes", out var max) && int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;

    /// <summary>A topic's configs as the cluster applies them (set on the topic, or the broker's defaults).</summary>
    /// <exception cref="KafkaException">The cluster would not say (no such topic, no DescribeConfigs permission, no answer in time).</exception>
    public async Task<IReadOnlyDictionary<string, string>> ConfigsAsync(string topic, CancellationToken cancellationToken = default)
    {
        try
        {
            var described = await admin.DescribeConfigsAsync(
                [new ConfigResource { Type = ResourceType.Topic, Name = topic }], new DescribeConfigsOptions { RequestTimeout = RequestTimeout })
                .WaitAsync(cancellationToken);
            return described.Single().Entries.Where(e => e.Value.Value is not null).ToDictionary(e => e.Key, e => e.Value.Value, StringComparer.Ordinal);
        }
        catch (DescribeConfigsException e)
        {
            throw new KafkaException(e.Results.Select(r => r.Error).FirstOrDefault(r => r.IsError) ?? e.Error);
        }
    }

    private void Created(TopicRequirement topic, bool withOptional)
    {
        var configs = withOptional ? topic.Configs.Concat(topic.OptionalConfigs) : topic.Configs;
        var replicas = topic.ReplicationFactor == -1 ? "the cluster's default replication factor" : $"replication factor {topic.ReplicationFactor}";
        TopicCreated(_logger, topic.Name, topic.Partitions, replicas, configs.Any() ? Describe(configs) : "the cluster's default configs");
    }

    private static string Describe(IEnumerable<KeyValuePair<string, string>> configs) => string.Join(", ", configs.Select(c => $"{c.Key}={c.Value}"));

    private static ProvisionedTopic Existing(TopicRequirement topic, int partitions) =>
        partitions == topic.Partitions
            ? new ProvisionedTopic(topic.Name, partitions, TopicOutcome.AlreadyExisted)
            : throw new TopicProvisioningException(topic.Name,
                $"topic '{topic.Name}' has {partitions} partitions, but {topic.Partitions} are required; delete it or recreate it with {topic.Partitions} partitions");

    /// <returns>The topics that failed, with the cluster's error for each.</returns>
    private async Task<List<(TopicRequirement Topic, Error Error)>> CreateAsync(List<TopicRequirement> topics, bool withOptional, CancellationToken cancellationToken)
    {
        if (topics.Count == 0)
        {
            return [];
        }

        var specifications = topics.Select(t =>
        {
            var configs = new Dictionary<string, string>(t.Configs);
            foreach (var (name, value) in withOptional ? t.OptionalConfigs : new Dictionary<string, string>())
            {
                configs.TryAdd(name, value);
            }

            return new TopicSpecification
            {
                Name = t.Name,
                NumPartitions = t.Partitions,
                ReplicationFactor = t.ReplicationFactor,
                Configs = configs.Count > 0 ? configs : null,
            };
        });

        try
        {
            await admin.CreateTopicsAsync(specifications, new CreateTopicsOptions { RequestTimeout = RequestTimeout, OperationTimeout = RequestTimeout })
                .WaitAsync(cancellationToken);
            return [];
        }
        catch (CreateTopicsException e)
        {
            return [.. e.Results.Where(r => r.Error.IsError).Select(r => (topics.First(t => t.Name == r.Topic), r.Error))];
        }
    }

    private async Task<int> PartitionCountAfterRaceAsync(string topic, CancellationToken cancellationToken)
    {
        // The winner's topic can take a moment to reach every broker's metadata.
        for (var attempt = 1; ; attempt++)
        {
            if ((await PartitionCountsAsync(cancellationToken)).TryGetValue(topic, out var count))
            {
                return count;
            }

            if (attempt == MetadataAttempts)
            {
                throw new TopicProvisioningException(topic, $"topic '{topic}' already exists, the cluster says, but its metadata does not show it");
            }

            await Task.Delay(MetadataRetryDelay, _time, cancellationToken);
        }
    }

    private async Task<Dictionary<string, int>> PartitionCountsAsync(CancellationToken cancellationToken)
    {
        // All topics: asking for one by name may auto-create it, with the broker's default partition count.
        var metadata = await BlockingCall.RunAsync(() => admin.GetMetadata(RequestTimeout), cancellationToken);
        return metadata.Topics
            .Where(t => !t.Error.IsError)
            .ToDictionary(t => t.Topic, t => t.Partitions.Count);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions, {Replicas}, {Configs}")]
    private static partial void TopicCreated(ILogger logger, string topic, int partitions, string replicas, string configs);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Creating topic {Topic} without {Configs}: the cluster refused them ({Reason})")]
    private static partial void OptionalConfigsRefused(ILogger logger, string topic, string configs, string reason);
}
