using System.Globalization;
using Confluent.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka.Admin;

/// <summary>A topic config the stack knows: its default, what values it takes, and whether the stack can apply another value.</summary>
internal sealed record TopicConfigDefinition(string Name, string Default, ConfigType Type, string Documentation)
{
    /// <summary>False: the mock applies only <see cref="Default"/> (its fixed limits), so any other valid value is a policy violation.</summary>
    public bool Settable { get; init; } = true;

    /// <summary>Why a value is not one Kafka takes for this config, or null when it is.</summary>
    public Func<string, string?> Check { get; init; } = _ => null;
}

/// <summary>A topic's config as DescribeConfigs reports it.</summary>
internal sealed record TopicConfigValue(TopicConfigDefinition Definition, string Value, bool IsSet)
{
    public string Name => Definition.Name;
}

/// <summary>
/// Topic configs on the local stack, kept as CreateTopics, AlterConfigs and IncrementalAlterConfigs
/// set them and reported by DescribeConfigs, as a broker does. What the mock cannot change (its size
/// limits, compression) accepts only the value it really applies; <c>cleanup.policy=compact</c> is
/// kept and reported although the stack never compacts (a log that is never compacted still holds
/// every key's newest value, so what a compacted topic promises its readers holds);
/// <c>retention.ms</c> is honoured by <see cref="RetentionWatcher"/>, which deletes what is older.
/// </summary>
internal sealed class TopicConfigs : IProduceLimits
{
    private const string CleanupDoc =
        "Kept as set. compact is accepted, but the local stack never compacts: every record stays until the size limit or retention.ms removes it, so every key's newest value is still there to read. delete applies retention.ms.";

    private const string NoEffectDoc = "Kept and reported; it has no effect here: the local stack has no segments and never compacts.";

    private static readonly string[] CompressionTypes = ["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Dictionary<string, string>> _set = new(StringComparer.Ordinal);

    // The topics' max.message.bytes, replaced whole under the lock: read on every produce request without it.
    private volatile Dictionary<string, int> _messageLimits = new(StringComparer.Ordinal);

    public static IReadOnlyList<TopicConfigDefinition> Definitions { get; } =
    [
        new("cleanup.policy", "delete", ConfigType.List, CleanupDoc) { Check = CheckCleanupPolicy },
        new("compression.type", "producer", ConfigType.String, "Batches are stored as the producer sent them, compressed or not.")
        {
            Settable = false,
            Check = v => CompressionTypes.Contains(v) ? null : $"String must be one of: {string.Join(", ", CompressionTypes)}",
        },
        new("delete.retention.ms", "86400000", ConfigType.Long, NoEffectDoc) { Check = v => AtLeast(v, 0) },
        new("max.compaction.lag.ms", long.MaxValue.ToString(CultureInfo.InvariantCulture), ConfigType.Long, NoEffectDoc) { Check = v => AtLeast(v, 1) },
        new("max.message.bytes", Invariant(MockConfigs.MaxRequestBytes), ConfigType.Int,
            "Kept as set: a produced record batch larger than the set value is refused with MESSAGE_TOO_LARGE, as a broker refuses it, and the request's other partitions are written. Unset: no per-batch limit, a request may be up to 100,000,000 bytes (receive.message.max.bytes of the mock; Kafka's default is 1048588); a batch larger than the retention keeps its partition to itself until the next batch arrives.")
        {
            Check = v => AtLeast(v, 0, int.MaxValue),
        },
        new("min.cleanable.dirty.ratio", "0.5", ConfigType.Double, NoEffectDoc) { Check = CheckRatio },
        new("min.compaction.lag.ms", "0", ConfigType.Long, NoEffectDoc) { Check = v => AtLeast(v, 0) },
        new("min.insync.replicas", "1", ConfigType.Int,
            "Kept as set. The mock has no replication: every replica is always in sync, and acks=all is acknowledged at once.")
        {
            Check = v => AtLeast(v, 1, int.MaxValue),
        },
        new("retention.bytes", Invariant(MockConfigs.RetentionBytes), ConfigType.Long,
            "Each partition keeps only its newest 5 MiB (5,242,880 bytes) of record batches, or 100,000 batches, whichever is less (rdkafka_mock.c); older batches are dropped. Compression and more partitions fit more records.")
        {
            Settable = false,
            Check = v => AtLeast(v, -1),
        },
        new("retention.ms", "-1", ConfigType.Long,
            "-1: no time retention. Otherwise, with cleanup.policy delete, records older than this (by when they arrived) are deleted, checked every few seconds.")
        {
            Check = v => AtLeast(v, -1),
        },
        new("segment.bytes", "1073741824", ConfigType.Int, NoEffectDoc) { Check = v => AtLeast(v, 14, int.MaxValue) },
        new("segment.ms", "604800000", ConfigType.Long, NoEffectDoc) { Check = v => AtLeast(v, 1) },
    ];

    /// <summary>Every config of the topic, set or default, in name order.</summary>
    public IReadOnlyList<TopicConfigValue> Describe(string topic) => Described(Set(topic));

    /// <summary>Every config, with these set and the rest at their defaults.</summary>
    public static IReadOnlyList<TopicConfigValue> Described(IReadOnlyDictionary<string, string> set) =>
        [.. Definitions.Select(d => set.TryGetValue(d.Name, out var value) ? new TopicConfigValue(d, value, true) : new TopicConfigValue(d, d.Default, false))];

    /// <summary>The configs set on the topic (not defaults).</summary>
    public IReadOnlyDictionary<string, string> Set(string topic)
    {
        lock (_lock)
        {
            return _set.TryGetValue(topic, out var set) ? new Dictionary<string, string>(set, StringComparer.Ordinal) : new Dictionary<string, string>(StringComparer.Ordinal);
        }
    }

    /// <summary>Replaces every config set on the topic (CreateTopics, AlterConfigs); the values must have passed <see cref="Validate"/>.</summary>
    public void Replace(string topic, IReadOnlyDictionary<string, string> configs)
    {
        lock (_lock)
        {
            _set[topic] = new Dictionary<string, string>(configs, StringComparer.Ordinal);
            RenewMessageLimits();
        }
    }

    public void Remove(string topic)
    {
        lock (_lock)
        {
            _set.Remove(topic);
            RenewMessageLimits();
        }
    }

    bool IProduceLimits.Any => _messageLimits.Count > 0;

    int? IProduceLimits.Of(string topic) => _messageLimits.TryGetValue(topic, out var limit) ? limit : null;

    private void RenewMessageLimits() =>
        _messageLimits = _set
            .Where(t => t.Value.ContainsKey("max.message.bytes"))
            .ToDictionary(t => t.Key, t => int.Parse(t.Value["max.message.bytes"], CultureInfo.InvariantCulture), StringComparer.Ordinal);

    /// <summary>Topics whose records are deleted once older than their <c>retention.ms</c>.</summary>
    public IReadOnlyDictionary<string, TimeSpan> TimeRetention()
    {
        lock (_lock)
        {
            return _set
                .Where(t => t.Value.TryGetValue("retention.ms", out var ms) && long.Parse(ms, CultureInfo.InvariantCulture) >= 0
                    && Items(t.Value.GetValueOrDefault("cleanup.policy", "delete")).Contains("delete"))
                .ToDictionary(t => t.Key, t => TimeSpan.FromMilliseconds(long.Parse(t.Value["retention.ms"], CultureInfo.InvariantCulture)), StringComparer.Ordinal);
        }
    }

    /// <summary>Checks configs as a broker does before it applies them.</summary>
    /// <returns>Null when every config can be applied; otherwise Kafka's error code and message.</returns>
    public static (ErrorCode Error, string Message)? Validate(IEnumerable<(string Name, string? Value)> configs)
    {
        var fixedOnes = new List<string>();
        foreach (var (name, value) in configs)
        {
            var definition = Definitions.FirstOrDefault(d => d.Name == name);
            if (definition is null)
            {
                return (ErrorCode.InvalidConfig, $"Unknown topic config name: {name}");
            }

            if (value is null)
            {
                continue;
            }

            if (definition.Check(value) is { } invalid)
            {
                return (ErrorCode.InvalidConfig, $"Invalid value {value} for configuration {name}: {invalid}");
            }

            if (!definition.Settable && value != definition.Default)
            {
                fixedOnes.Add($"{name}={value}");
            }
        }

        return fixedOnes.Count > 0 ? (ErrorCode.PolicyViolation, CannotApply(fixedOnes)) : null;
    }

    public static string CannotApply(IEnumerable<string> configs) =>
        $"The local stack (librdkafka's mock cluster) cannot apply {string.Join(", ", configs)}: its size limits and compression are fixed " +
        "(each partition keeps its newest ~5 MiB or 100,000 record batches, as the producer sent them). Only the values DescribeConfigs reports as read-only are accepted for these.";

    public static IEnumerable<string> Items(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string? CheckCleanupPolicy(string value)
    {
        var items = Items(value).ToList();
        if (items.Count == 0)
        {
            return "Empty list";
        }

        return items.FirstOrDefault(i => i is not ("compact" or "delete")) is { } bad
            ? $"String must be one of: compact, delete (not {bad})"
            : null;
    }

    private static string? CheckRatio(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1 ? null : "Value must be between 0 and 1";

    private static string? AtLeast(string value, long minimum, long maximum = long.MaxValue) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number)
            ? number < minimum ? $"Value must be at least {minimum}" : number > maximum ? $"Value must be at most {maximum}" : null
            : "Not a number";

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
