using Orders.Avro;

namespace Orders.SchemaRegistry.Compatibility;

/// <summary>Confluent Schema Registry's compatibility levels.</summary>
public enum CompatibilityLevel
{
    None,
    Backward,
    BackwardTransitive,
    Forward,
    ForwardTransitive,
    Full,
    FullTransitive,
}

public static class CompatibilityLevels
{
    public static string ToWireName(this CompatibilityLevel level) => level switch
    {
        CompatibilityLevel.None => "NONE",
        CompatibilityLevel.Backward => "BACKWARD",
        CompatibilityLevel.BackwardTransitive => "BACKWARD_TRANSITIVE",
        CompatibilityLevel.Forward => "FORWARD",
        CompatibilityLevel.ForwardTransitive => "FORWARD_TRANSITIVE",
        CompatibilityLevel.Full => "FULL",
        CompatibilityLevel.FullTransitive => "FULL_TRANSITIVE",
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    public static bool TryParse(string? text, out CompatibilityLevel level)
    {
        CompatibilityLevel? parsed = text?.ToUpperInvariant() switch
        {
            "NONE" => CompatibilityLevel.None,
            "BACKWARD" => CompatibilityLevel.Backward,
            "BACKWARD_TRANSITIVE" => CompatibilityLevel.BackwardTransitive,
            "FORWARD" => CompatibilityLevel.Forward,
            "FORWARD_TRANSITIVE" => CompatibilityLevel.ForwardTransitive,
            "FULL" => CompatibilityLevel.Full,
            "FULL_TRANSITIVE" => CompatibilityLevel.FullTransitive,
            _ => null,
        };
        level = parsed ?? default;
        return parsed.HasValue;
    }

    /// <summary>
    /// Checks a new schema against a subject's existing versions (oldest first) under a level:
    /// non-transitive levels look at the latest version only, transitive ones at every version.
    /// BACKWARD: the new schema reads old data; FORWARD: old schemas read new data; FULL: both.
    /// </summary>
    /// <returns>One message per incompatibility; empty when compatible.</returns>
    public static IReadOnlyList<string> Check(
        CompatibilityLevel level, AvroSchema candidate, IReadOnlyList<(int Version, AvroSchema Schema)> existingOldestFirst)
    {
        if (level == CompatibilityLevel.None || existingOldestFirst.Count == 0)
        {
            return [];
        }

        var transitive = level is CompatibilityLevel.BackwardTransitive or CompatibilityLevel.ForwardTransitive or CompatibilityLevel.FullTransitive;
        var backward = level is not (CompatibilityLevel.Forward or CompatibilityLevel.ForwardTransitive);
        var forward = level is not (CompatibilityLevel.Backward or CompatibilityLevel.BackwardTransitive);

        var messages = new List<string>();
        var against = transitive ? existingOldestFirst : [existingOldestFirst[^1]];
        foreach (var (version, old) in against.Reverse())
        {
            if (backward)
            {
                messages.AddRange(SchemaCompatibility.Check(candidate, old).Select(x =>
                    $"{x}: the new schema cannot read data written with version {version}"));
            }

            if (forward)
            {
                messages.AddRange(SchemaCompatibility.Check(old, candidate).Select(x =>
                    $"{x}: version {version} cannot read data written with the new schema"));
            }
        }

        return messages;
    }
}
