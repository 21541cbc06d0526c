using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Orders.Kafka;

/// <summary>A topic a component needs, with the configs it wants (e.g. <c>cleanup.policy=compact</c>).</summary>
public sealed record TopicRequirement(string Name, int Partitions)
{
    public IReadOnlyDictionary<string, string> Configs { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// True when the topic is usable without <see cref="Configs"/>: if the cluster refuses them (the
    /// local stack cannot compact, a policy forbids a value), the topic is created without them and a
    /// warning says so. False makes a refusal an error.
    /// </summary>
    public bool ConfigsOptional { get; init; }
}

public enum TopicOutcome
{
    Created,

    /// <summary>The cluster refused the optional configs; the topic was created with its defaults.</summary>
    CreatedWithoutConfigs,

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
/// as they are.
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
///          ConfigsOptional = true,
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
        foreach (var (topic, firstError) in await CreateAsync(missing, withConfigs: true, cancellationToken))
        {
            var error = firstError;
            if (error.Code is ErrorCode.PolicyViolation or ErrorCode.InvalidConfig && topic is { ConfigsOptional: true, Configs.Count: > 0 })
            {
                // Refused configs the topic can live without: create it with the cluster's defaults, and say so.
                var retry = await CreateAsync([topic], withConfigs: false, cancellationToken);
                if (retry.Count == 0)
                {
                    ConfigsRefused(_logger, topic.Name, string.Join(", ", topic.Configs.Select(c => $"{c.Key}={c.Value}")), error.Reason);
                    results[topic.Name] = new ProvisionedTopic(topic.Name, topic.Partitions, TopicOutcome.CreatedWithoutConfigs, error.Reason);
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

            throw new TopicProvisioningException(topic.Name, $"cannot create topic '{topic.Name}' ({topic.Partitions} partitions): {error.Code}: {error.Reason}");
        }

        foreach (var topic in missing.Where(t => !results.ContainsKey(t.Name)))
        {
            TopicCreated(_logger, topic.Name, topic.Partitions);
            results[topic.Name] = new ProvisionedTopic(topic.Name, topic.Partitions, TopicOutcome.Created);
        }

        return [.. required.Select(t => results[t.Name])];
    }

    private static ProvisionedTopic Existing(TopicRequirement topic, int partitions) =>
        partitions == topic.Partitions
            ? new ProvisionedTopic(topic.Name, partitions, TopicOutcome.AlreadyExisted)
            : throw new TopicProvisioningException(topic.Name,
                $"topic '{topic.Name}' has {partitions} partitions, but {topic.Partitions} are required; delete it or recreate it with {topic.Partitions} partitions");

    /// <returns>The topics that failed, with the cluster's error for each.</returns>
    private async Task<List<(TopicRequirement Topic, Error Error)>> CreateAsync(List<TopicRequirement> topics, bool withConfigs, CancellationToken cancellationToken)
    {
        if (topics.Count == 0)
        {
            return [];
        }

        var specifications = topics.Select(t => new TopicSpecification
        {
            Name = t.Name,
            NumPartitions = t.Partitions,
            // -1: the cluster's default.replication.factor, right for one broker as for many.
            ReplicationFactor = -1,
            Configs = withConfigs && t.Configs.Count > 0 ? new Dictionary<string, string>(t.Configs) : null,
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

    [LoggerMessage(EventId = 300, Level = LogLevel.Information, Message = "Created topic {Topic} with {Partitions} partitions")]
    private static partial void TopicCreated(ILogger logger, string topic, int partitions);

    [LoggerMessage(EventId = 301, Level = LogLevel.Warning, Message = "Created topic {Topic} without {Configs}: the cluster refused them ({Reason})")]
    private static partial void ConfigsRefused(ILogger logger, string topic, string configs, string reason);
}
