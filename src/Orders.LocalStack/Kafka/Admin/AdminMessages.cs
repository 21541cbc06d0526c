using Confluent.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka.Admin;

// The request and response layouts of the admin APIs served locally, every version (Kafka's
// message definitions: CreateTopics 0-7, DeleteTopics 0-6, DescribeConfigs 0-4, AlterConfigs 0-2,
// IncrementalAlterConfigs 0-1). Flexible versions use compact strings and arrays and end every
// structure with tagged fields.

internal sealed record CreatableTopic(
    string Name, int NumPartitions, short ReplicationFactor, List<(int Partition, List<int> Brokers)> Assignments, List<(string Name, string? Value)> Configs);

internal sealed record CreateTopicsRequest(List<CreatableTopic> Topics, bool ValidateOnly)
{
    public static CreateTopicsRequest Read(ref KafkaReader reader, RequestHeader header)
    {
        var flexible = header.IsFlexible;
        var topics = new List<CreatableTopic>();
        var count = reader.ReadArrayLength(flexible);
        for (var i = 0; i < count; i++)
        {
            var name = reader.ReadString(flexible);
            var partitions = reader.ReadInt32();
            var replicationFactor = reader.ReadInt16();
            var assignments = new List<(int, List<int>)>();
            var assignmentCount = reader.ReadArrayLength(flexible);
            for (var a = 0; a < assignmentCount; a++)
            {
                var partition = reader.ReadInt32();
                var brokers = new List<int>();
                var brokerCount = reader.ReadArrayLength(flexible);
                for (var b = 0; b < brokerCount; b++)
                {
                    brokers.Add(reader.ReadInt32());
                }

                EndStruct(ref reader, flexible);
                assignments.Add((partition, brokers));
            }

            var configs = new List<(string, string?)>();
            var configCount = reader.ReadArrayLength(flexible);
            for (var c = 0; c < configCount; c++)
            {
                configs.Add((reader.ReadString(flexible), reader.ReadNullableString(flexible)));
                EndStruct(ref reader, flexible);
            }

            EndStruct(ref reader, flexible);
            topics.Add(new CreatableTopic(name, partitions, replicationFactor, assignments, configs));
        }

        _ = reader.ReadInt32(); // timeout_ms: creation is synchronous here
        var validateOnly = header.ApiVersion >= 1 && reader.ReadBoolean();
        return new CreateTopicsRequest(topics, validateOnly);
    }

    internal static void EndStruct(ref KafkaReader reader, bool flexible)
    {
        if (flexible)
        {
            reader.SkipTaggedFields();
        }
    }
}

internal sealed record CreateTopicResult(string Name, Guid TopicId, ErrorCode Error, string? Message, int Partitions, short ReplicationFactor)
{
    /// <summary>The topic's configs when they are not (yet) in the store: a validate-only request.</summary>
    public IReadOnlyList<TopicConfigValue>? Configs { get; init; }

    public static CreateTopicResult Failed(string name, ErrorCode error, string message) => new(name, Guid.Empty, error, message, -1, -1);

    public static byte[] Write(RequestHeader header, List<CreateTopicResult> results, TopicConfigs topicConfigs)
    {
        var flexible = header.IsFlexible;
        var v = header.ApiVersion;
        var writer = KafkaWriter.Response(header.CorrelationId, flexible);
        if (v >= 2)
        {
            writer.WriteInt32(0);
        }

        writer.WriteArrayLength(results.Count, flexible);
        foreach (var result in results)
        {
            writer.WriteString(result.Name, flexible);
            if (v >= 7)
            {
                writer.WriteUuid(result.TopicId);
            }

            writer.WriteInt16((short)result.Error);
            if (v >= 1)
            {
                writer.WriteNullableString(result.Message, flexible);
            }

            if (v >= 5)
            {
                writer.WriteInt32(result.Partitions);
                writer.WriteInt16(result.ReplicationFactor);
                // A validate-only request reports the configs the topic would have had; a created topic those it has.
                var configs = result.Error == ErrorCode.NoError ? result.Configs ?? topicConfigs.Describe(result.Name) : null;
                writer.WriteArrayLength(configs?.Count ?? -1, flexible);
                foreach (var config in configs ?? [])
                {
                    writer.WriteString(config.Name, flexible);
                    writer.WriteNullableString(config.Value, flexible);
                    writer.WriteBoolean(!config.Definition.Settable); // read_only
                    writer.WriteInt8(config.IsSet ? (sbyte)1 : (sbyte)5); // config_source: DYNAMIC_TOPIC_CONFIG or DEFAULT_CONFIG
                    writer.WriteBoolean(false); // is_sensitive
                    writer.EndStruct(flexible);
                }
            }

            writer.EndStruct(flexible);
        }

        writer.EndStruct(flexible);
        return writer.ToFrame();
    }
}

internal sealed record DeleteTopicsRequest(List<(string? Name, Guid Id)> Topics)
{
    public static DeleteTopicsRequest Read(ref KafkaReader reader, RequestHeader header)
    {
        var flexible = header.IsFlexible;
        var topics = new List<(string?, Guid)>();
        var count = reader.ReadArrayLength(flexible);
        for (var i = 0; i < count; i++)
        {
            if (header.ApiVersion >= 6)
            {
                var name = reader.ReadNullableString(flexible);
                var id = reader.ReadUuid();
                CreateTopicsRequest.EndStruct(ref reader, flexible);
                topics.Add((name, id));
            }
            else
            {
                topics.Add((reader.ReadString(flexible), Guid.Empty));
            }
        }

        _ = reader.ReadInt32(); // timeout_ms: deletion is synchronous here
        return new DeleteTopicsRequest(topics);
    }
}

internal sealed record ConfigResource(sbyte Type, string Name, List<string>? Keys);

internal sealed record DescribeConfigsRequest(List<ConfigResource> Resources, bool IncludeDocumentation)
{
    public static DescribeConfigsRequest Read(ref KafkaReader reader, RequestHeader header)
    {
        var flexible = header.IsFlexible;
        var resources = new List<ConfigResource>();
        var count = reader.ReadArrayLength(flexible);
        for (var i = 0; i < count; i++)
        {
            var type = reader.ReadInt8();
            var name = reader.ReadString(flexible);
            List<string>? keys = null;
            var keyCount = reader.ReadArrayLength(flexible);
            if (keyCount >= 0)
            {
                keys = [];
                for (var k = 0; k < keyCount; k++)
                {
                    keys.Add(reader.ReadString(flexible));
                }
            }

            CreateTopicsRequest.EndStruct(ref reader, flexible);
            resources.Add(new ConfigResource(type, name, keys));
        }

        if (header.ApiVersion >= 1)
        {
            _ = reader.ReadBoolean(); // include_synonyms: there are none
        }

        var documentation = header.ApiVersion >= 3 && reader.ReadBoolean();
        return new DescribeConfigsRequest(resources, documentation);
    }
}

internal enum AlterOperation : sbyte
{
    Set = 0,
    Delete = 1,
    Append = 2,
    Subtract = 3,
}

internal sealed record AlterableConfig(string Name, AlterOperation Operation, string? Value);

internal sealed record AlterableResource(sbyte Type, string Name, List<AlterableConfig> Configs);

/// <summary>AlterConfigs, or IncrementalAlterConfigs (each config with its operation).</summary>
internal sealed record AlterConfigsRequest(List<AlterableResource> Resources, bool ValidateOnly)
{
    public static AlterConfigsRequest Read(ref KafkaReader reader, RequestHeader header)
    {
        var flexible = header.IsFlexible;
        var incremental = header.ApiKey == (short)KafkaApiKey.IncrementalAlterConfigs;
        var resources = new List<AlterableResource>();
        var count = reader.ReadArrayLength(flexible);
        for (var i = 0; i < count; i++)
        {
            var type = reader.ReadInt8();
            var name = reader.ReadString(flexible);
            var configs = new List<AlterableConfig>();
            var configCount = reader.ReadArrayLength(flexible);
            for (var c = 0; c < configCount; c++)
            {
                var configName = reader.ReadString(flexible);
                var operation = incremental ? (AlterOperation)reader.ReadInt8() : AlterOperation.Set;
                var value = reader.ReadNullableString(flexible);
                CreateTopicsRequest.EndStruct(ref reader, flexible);
                configs.Add(new AlterableConfig(configName, operation, value));
            }

            CreateTopicsRequest.EndStruct(ref reader, flexible);
            resources.Add(new AlterableResource(type, name, configs));
        }

        return new AlterConfigsRequest(resources, reader.ReadBoolean());
    }
}

/// <summary>Kafka's rules for topic names (<c>org.apache.kafka.common.internals.Topic</c>), with its messages.</summary>
internal static class TopicNames
{
    public const int MaxLength = 249;

    public static string? Validate(string name)
    {
        if (name.Length == 0)
        {
            return "Topic name is illegal, it can't be empty";
        }

        if (name is "." or "..")
        {
            return "Topic name cannot be \".\" or \"..\"";
        }

        if (name.Length > MaxLength)
        {
            return $"Topic name is illegal, it can't be longer than {MaxLength} characters, topic name: {name}";
        }

        return name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')
            ? null
            : $"Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'";
    }

    /// <summary>An existing topic that differs only by '.' versus '_': their metric names would collide.</summary>
    public static string? Collision(string name, IEnumerable<string> existing)
    {
        if (!name.Contains('.') && !name.Contains('_'))
        {
            return null;
        }

        var unified = name.Replace('.', '_');
        return existing.FirstOrDefault(e => e != name && e.Replace('.', '_') == unified);
    }
}
