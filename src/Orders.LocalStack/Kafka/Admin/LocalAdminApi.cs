using Confluent.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka.Admin;

/// <summary>
/// The admin requests the mock cluster has no handler for, answered by the relay in front of every
/// broker: CreateTopics and DeleteTopics through the mock's C API; topic configs kept as created or
/// altered (<see cref="TopicConfigs"/>) and reported by DescribeConfigs, those the mock cannot change
/// accepting only the value it applies; broker configs read-only. Errors are Kafka's own codes, with
/// Kafka's messages where the request version carries them.
/// </summary>
internal sealed class LocalAdminApi(MockCluster cluster, MockBrokerClient client, TopicConfigs topicConfigs, TimeSpan groupInitialRebalanceDelay) : ILocalRequestHandler
{
    private const sbyte TopicResource = 2;
    private const sbyte BrokerResource = 4;
    private const sbyte DynamicTopicConfigSource = 1;
    private const sbyte DefaultConfigSource = 5;

    /// <summary>The versions served, all of those Kafka 4.x defines for these APIs.</summary>
    public static IReadOnlyDictionary<short, (short Min, short Max)> Versions { get; } = new Dictionary<short, (short, short)>
    {
        [(short)KafkaApiKey.CreateTopics] = (0, 7),
        [(short)KafkaApiKey.DeleteTopics] = (0, 6),
        [(short)KafkaApiKey.DescribeConfigs] = (0, 4),
        [(short)KafkaApiKey.AlterConfigs] = (0, 2),
        [(short)KafkaApiKey.IncrementalAlterConfigs] = (0, 1),
    };

    public async Task<byte[]> HandleAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        var (header, request) = Parse(frame.Span);
        return request switch
        {
            CreateTopicsRequest create => await CreateTopicsAsync(header, create, cancellationToken),
            DeleteTopicsRequest delete => await DeleteTopicsAsync(header, delete, cancellationToken),
            DescribeConfigsRequest describe => await DescribeConfigsAsync(header, describe, cancellationToken),
            AlterConfigsRequest alter => await AlterConfigsAsync(header, alter, cancellationToken),
            _ => throw new KafkaProtocolException($"{ApiSupport.Name(header.ApiKey)} is not served here"),
        };
    }

    private static (RequestHeader, object) Parse(ReadOnlySpan<byte> frame)
    {
        var reader = new KafkaReader(frame[4..]);
        var header = RequestHeader.Read(ref reader);
        object request = (KafkaApiKey)header.ApiKey switch
        {
            KafkaApiKey.CreateTopics => CreateTopicsRequest.Read(ref reader, header),
            KafkaApiKey.DeleteTopics => DeleteTopicsRequest.Read(ref reader, header),
            KafkaApiKey.DescribeConfigs => DescribeConfigsRequest.Read(ref reader, header),
            KafkaApiKey.AlterConfigs or KafkaApiKey.IncrementalAlterConfigs => AlterConfigsRequest.Read(ref reader, header),
            _ => throw new KafkaProtocolException($"{ApiSupport.Name(header.ApiKey)} is not served here"),
        };

        if (header.IsFlexible)
        {
            reader.SkipTaggedFields();
        }

        return (header, request);
    }

    // ---- CreateTopics ----

    private async Task<byte[]> CreateTopicsAsync(RequestHeader header, CreateTopicsRequest request, CancellationToken cancellationToken)
    {
        var metadata = await client.MetadataAsync(null, cancellationToken);
        var liveBrokers = cluster.LiveBrokerIds;
        var counts = request.Topics.GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.Count());
        var results = new List<CreateTopicResult>();
        foreach (var topic in request.Topics)
        {
            var result = counts[topic.Name] > 1
                ? CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidRequest, "Duplicate topic name.")
                : Create(topic, request.ValidateOnly, metadata, liveBrokers);
            results.Add(result);
        }

        if (header.ApiVersion >= 7 && results.Any(r => r.Error == ErrorCode.NoError && !request.ValidateOnly))
        {
            var created = await client.MetadataAsync([.. results.Where(r => r.Error == ErrorCode.NoError).Select(r => r.Name)], cancellationToken);
            results = [.. results.Select(r => r with { TopicId = created.Find(r.Name)?.Id ?? Guid.Empty })];
        }

        return CreateTopicResult.Write(header, results, topicConfigs);
    }

    private CreateTopicResult Create(CreatableTopic topic, bool validateOnly, MockMetadata metadata, IReadOnlyList<int> liveBrokers)
    {
        if (TopicNames.Validate(topic.Name) is { } invalid)
        {
            return CreateTopicResult.Failed(topic.Name, ErrorCode.TopicException, invalid);
        }

        if (metadata.Find(topic.Name) is not null)
        {
            return CreateTopicResult.Failed(topic.Name, ErrorCode.TopicAlreadyExists, $"Topic '{topic.Name}' already exists.");
        }

        if (TopicNames.Collision(topic.Name, metadata.Topics.Select(t => t.Name)) is { } collision)
        {
            return CreateTopicResult.Failed(topic.Name, ErrorCode.TopicException, $"Topic '{topic.Name}' collides with existing topic: {collision}");
        }

        int partitions, replicationFactor;
        if (topic.Assignments.Count > 0)
        {
            if (topic.NumPartitions != -1 || topic.ReplicationFactor != -1)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidRequest,
                    "Replication factor and number of partitions must both be -1 when a manual partition assignment is given.");
            }

            if (ValidateAssignments(topic.Assignments, liveBrokers) is { } bad)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidReplicaAssignment, bad);
            }

            partitions = topic.Assignments.Count;
            replicationFactor = topic.Assignments[0].Brokers.Count;
        }
        else
        {
            replicationFactor = topic.ReplicationFactor == -1 ? MockConfigs.DefaultReplicationFactor(cluster.BrokerCount) : topic.ReplicationFactor;
            if (replicationFactor <= 0)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.");
            }

            partitions = topic.NumPartitions == -1 ? MockConfigs.DefaultPartitions : topic.NumPartitions;
            if (partitions <= 0)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidPartitions, "Number of partitions was set to an invalid non-positive value.");
            }

            if (partitions > MockConfigs.MaxPartitions)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidPartitions,
                    $"Number of partitions {partitions} is above the local stack's limit of {MockConfigs.MaxPartitions} per topic.");
            }

            if (replicationFactor > liveBrokers.Count)
            {
                return CreateTopicResult.Failed(topic.Name, ErrorCode.InvalidReplicationFactor,
                    $"Unable to replicate the partition {replicationFactor} time(s): The target replication factor of {replicationFactor} cannot be reached because only {liveBrokers.Count} broker(s) are registered.");
            }
        }

        if (TopicConfigs.Validate(topic.Configs) is { } refused)
        {
            return CreateTopicResult.Failed(topic.Name, refused.Error, refused.Message);
        }

        if (!validateOnly)
        {
            var error = cluster.TryCreateTopic(topic.Name, partitions, replicationFactor);
            if (error == ErrorCode.TopicAlreadyExists)
            {
                return CreateTopicResult.Failed(topic.Name, error, $"Topic '{topic.Name}' already exists.");
            }

            if (error != ErrorCode.NoError)
            {
                return CreateTopicResult.Failed(topic.Name, error, $"The mock cluster could not create topic '{topic.Name}': {error}.");
            }

            foreach (var assignment in topic.Assignments)
            {
                cluster.SetPartitionLeader(topic.Name, assignment.Partition, assignment.Brokers[0]);
            }

            topicConfigs.Replace(topic.Name, topic.Configs.Where(c => c.Value is not null).ToDictionary(c => c.Name, c => c.Value!, StringComparer.Ordinal));
        }

        var configs = topic.Configs.Where(c => c.Value is not null).ToDictionary(c => c.Name, c => c.Value!, StringComparer.Ordinal);
        return new CreateTopicResult(topic.Name, Guid.Empty, ErrorCode.NoError, null, partitions, (short)replicationFactor)
        {
            Configs = validateOnly ? TopicConfigs.Described(configs) : null,
        };
    }

    private static string? ValidateAssignments(List<(int Partition, List<int> Brokers)> assignments, IReadOnlyList<int> liveBrokers)
    {
        var replicas = assignments[0].Brokers.Count;
        var ordered = assignments.OrderBy(a => a.Partition).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var (partition, brokers) = ordered[i];
            if (partition != i)
            {
                return "Partitions in a manual partition assignment must be numbered 0 to N-1 without gaps.";
            }

            if (brokers.Count == 0 || brokers.Count != replicas)
            {
                return "All partitions in the manual partition assignment must have the same, non-zero number of replicas.";
            }

            if (brokers.Distinct().Count() != brokers.Count)
            {
                return $"The manual partition assignment of partition {partition} names a broker more than once.";
            }

            if (brokers.FirstOrDefault(b => !liveBrokers.Contains(b), -1) is var missing and not -1)
            {
                return $"The manual partition assignment includes broker {missing}, but no such broker is registered.";
            }
        }

        return null;
    }

    // ---- DeleteTopics ----

    private async Task<byte[]> DeleteTopicsAsync(RequestHeader header, DeleteTopicsRequest request, CancellationToken cancellationToken)
    {
        var metadata = await client.MetadataAsync(null, cancellationToken);
        var flexible = header.IsFlexible;
        var v = header.ApiVersion;
        var writer = KafkaWriter.Response(header.CorrelationId, flexible);
        if (v >= 1)
        {
            writer.WriteInt32(0);
        }

        writer.WriteArrayLength(request.Topics.Count, flexible);
        foreach (var (name, id) in request.Topics)
        {
            var topic = name is not null ? metadata.Find(name) : metadata.Topics.FirstOrDefault(t => t.Id == id && t.ErrorCode == 0);
            ErrorCode error;
            string? message;
            if (name is null && id == Guid.Empty)
            {
                (error, message) = (ErrorCode.InvalidRequest, "Neither a topic name nor a topic id was given.");
            }
            else if (topic is null)
            {
                (error, message) = name is null
                    ? ((ErrorCode)100, $"Topic id {id} does not exist.")
                    : (ErrorCode.UnknownTopicOrPart, "This server does not host this topic-partition.");
            }
            else
            {
                error = cluster.TryDeleteTopic(topic.Name);
                message = error == ErrorCode.NoError ? null : "This server does not host this topic-partition.";
                if (error == ErrorCode.NoError)
                {
                    topicConfigs.Remove(topic.Name);
                }
            }

            if (v >= 6)
            {
                writer.WriteNullableString(topic?.Name ?? name, flexible);
                writer.WriteUuid(topic?.Id ?? id);
            }
            else
            {
                writer.WriteString(name ?? "", flexible);
            }

            writer.WriteInt16((short)error);
            if (v >= 5)
            {
                writer.WriteNullableString(message, flexible);
            }

            writer.EndStruct(flexible);
        }

        writer.EndStruct(flexible);
        return writer.ToFrame();
    }

    // ---- DescribeConfigs ----

    private async Task<byte[]> DescribeConfigsAsync(RequestHeader header, DescribeConfigsRequest request, CancellationToken cancellationToken)
    {
        var topics = request.Resources.Where(r => r.Type == TopicResource).Select(r => r.Name).Distinct().ToList();
        var metadata = topics.Count > 0 ? await client.MetadataAsync(topics, cancellationToken) : null;
        var flexible = header.IsFlexible;
        var v = header.ApiVersion;
        var writer = KafkaWriter.Response(header.CorrelationId, flexible);
        writer.WriteInt32(0);
        writer.WriteArrayLength(request.Resources.Count, flexible);
        foreach (var resource in request.Resources)
        {
            var (error, message, configs) = Resolve(resource.Type, resource.Name, metadata);
            if (resource.Keys is { } keys)
            {
                configs = [.. configs.Where(c => keys.Contains(c.Name))];
            }

            writer.WriteInt16((short)error);
            writer.WriteNullableString(message, flexible);
            writer.WriteInt8(resource.Type);
            writer.WriteString(resource.Name, flexible);
            writer.WriteArrayLength(configs.Count, flexible);
            foreach (var config in configs)
            {
                writer.WriteString(config.Name, flexible);
                writer.WriteNullableString(config.Value, flexible);
                writer.WriteBoolean(config.ReadOnly);
                if (v == 0)
                {
                    writer.WriteBoolean(!config.IsSet); // is_default
                }
                else
                {
                    writer.WriteInt8(config.IsSet ? DynamicTopicConfigSource : DefaultConfigSource);
                }

                writer.WriteBoolean(false); // is_sensitive
                if (v >= 1)
                {
                    writer.WriteArrayLength(0, flexible); // synonyms
                }

                if (v >= 3)
                {
                    writer.WriteInt8((sbyte)config.Type);
                    writer.WriteNullableString(request.IncludeDocumentation ? config.Documentation : null, flexible);
                }

                writer.EndStruct(flexible);
            }

            writer.EndStruct(flexible);
        }

        writer.EndStruct(flexible);
        return writer.ToFrame();
    }

    private (ErrorCode Error, string? Message, IReadOnlyList<DescribedConfig> Configs) Resolve(sbyte type, string name, MockMetadata? metadata)
    {
        switch (type)
        {
            case TopicResource when metadata?.Find(name) is null:
                return (ErrorCode.UnknownTopicOrPart, $"The topic '{name}' does not exist.", []);
            case TopicResource:
                return (ErrorCode.NoError, null, [.. topicConfigs.Describe(name).Select(DescribedConfig.Of)]);
            case BrokerResource when name.Length == 0:
                // The cluster-wide dynamic defaults: the mock has none.
                return (ErrorCode.NoError, null, []);
            case BrokerResource when int.TryParse(name, out var id) && id >= 1 && id <= cluster.BrokerCount:
                return (ErrorCode.NoError, null, [.. MockConfigs.Broker(id, cluster.BrokerCount, groupInitialRebalanceDelay).Select(DescribedConfig.Of)]);
            case BrokerResource:
                return (ErrorCode.InvalidRequest, $"Unexpected broker id, expected 1 to {cluster.BrokerCount} or empty string, but received {name}", []);
            default:
                return (ErrorCode.InvalidRequest, $"The local stack has no configs for resource type {type}: only topics (2) and brokers (4).", []);
        }
    }

    // ---- AlterConfigs and IncrementalAlterConfigs ----

    private async Task<byte[]> AlterConfigsAsync(RequestHeader header, AlterConfigsRequest request, CancellationToken cancellationToken)
    {
        var topics = request.Resources.Where(r => r.Type == TopicResource).Select(r => r.Name).Distinct().ToList();
        var metadata = topics.Count > 0 ? await client.MetadataAsync(topics, cancellationToken) : null;
        var flexible = header.IsFlexible;
        var writer = KafkaWriter.Response(header.CorrelationId, flexible);
        writer.WriteInt32(0);
        writer.WriteArrayLength(request.Resources.Count, flexible);
        foreach (var resource in request.Resources)
        {
            var (error, message, current) = Resolve(resource.Type, resource.Name, metadata);
            if (error == ErrorCode.NoError)
            {
                (error, message) = resource.Type == TopicResource
                    ? AlterTopic(resource, current, incremental: header.ApiKey == (short)KafkaApiKey.IncrementalAlterConfigs, request.ValidateOnly)
                    : AlterBroker(resource, current);
            }

            writer.WriteInt16((short)error);
            writer.WriteNullableString(message, flexible);
            writer.WriteInt8(resource.Type);
            writer.WriteString(resource.Name, flexible);
            writer.EndStruct(flexible);
        }

        writer.EndStruct(flexible);
        return writer.ToFrame();
    }

    /// <summary>
    /// AlterConfigs replaces every config set on the topic with those given (the rest revert to their
    /// defaults), as Kafka does; IncrementalAlterConfigs applies each operation to what is set now.
    /// </summary>
    private (ErrorCode, string?) AlterTopic(AlterableResource resource, IReadOnlyList<DescribedConfig> current, bool incremental, bool validateOnly)
    {
        var set = incremental ? new Dictionary<string, string>(topicConfigs.Set(resource.Name), StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var config in resource.Configs)
        {
            if (config.Operation is AlterOperation.Append or AlterOperation.Subtract && current.FirstOrDefault(c => c.Name == config.Name) is { Type: not ConfigType.List })
            {
                return (ErrorCode.InvalidConfig, $"Config value {config.Operation.ToString().ToLowerInvariant()} is not allowed for config key {config.Name}");
            }

            if (Apply(current, config) is { } value)
            {
                set[config.Name] = value;
            }
            else
            {
                set.Remove(config.Name);
            }
        }

        if (TopicConfigs.Validate(resource.Configs.Select(c => (c.Name, set.GetValueOrDefault(c.Name)))) is { } refused)
        {
            return refused;
        }

        if (!validateOnly)
        {
            topicConfigs.Replace(resource.Name, set);
        }

        return (ErrorCode.NoError, null);
    }

    /// <summary>Broker configs are the mock's fixed ones: only their current values are accepted.</summary>
    private static (ErrorCode, string?) AlterBroker(AlterableResource resource, IReadOnlyList<DescribedConfig> current)
    {
        var unappliable = resource.Configs
            .Select(c => (c.Name, Value: Apply(current, c)))
            .Where(c => c.Value is not null && current.FirstOrDefault(a => a.Name == c.Name)?.Value != c.Value)
            .Select(c => $"{c.Name}={c.Value}")
            .ToList();
        return unappliable.Count == 0
            ? (ErrorCode.NoError, null)
            : (ErrorCode.PolicyViolation, $"The local stack (librdkafka's mock cluster) cannot apply {string.Join(", ", unappliable)}: broker configs are fixed.");
    }

    /// <summary>The value a config would have after the operation; null (reverting to the default) always matches the mock.</summary>
    private static string? Apply(IReadOnlyList<DescribedConfig> current, AlterableConfig config)
    {
        var now = current.FirstOrDefault(c => c.Name == config.Name);
        var items = now?.Value.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
        return config.Operation switch
        {
            AlterOperation.Set => config.Value,
            AlterOperation.Delete => null,
            AlterOperation.Append when now?.Type == ConfigType.List => string.Join(',', items.Union([config.Value ?? ""])),
            AlterOperation.Subtract when now?.Type == ConfigType.List => string.Join(',', items.Except([config.Value ?? ""])),
            _ => $"({config.Operation} {config.Value})",
        };
    }

    /// <summary>A config as DescribeConfigs writes it, topic or broker.</summary>
    private sealed record DescribedConfig(string Name, string Value, ConfigType Type, string Documentation, bool ReadOnly, bool IsSet)
    {
        public static DescribedConfig Of(TopicConfigValue config) =>
            new(config.Name, config.Value, config.Definition.Type, config.Definition.Documentation, !config.Definition.Settable, config.IsSet);

        public static DescribedConfig Of(ConfigEntry config) => new(config.Name, config.Value, config.Type, config.Documentation, ReadOnly: true, IsSet: false);
    }
}
