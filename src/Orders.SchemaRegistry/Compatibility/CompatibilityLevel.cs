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
    /// <param name="budget">Bounds the work of every check made here; null for unbounded work.</param>
    /// <param name="maxMessages">At most this many incompatibilities are listed; a last message says when more were found.</param>
    /// <returns>One message per incompatibility; empty when compatible.</returns>
    /// <exception cref="SchemaTooComplexException">The budget was spent.</exception>
    public static IReadOnlyList<string> Check(
        CompatibilityLevel level,
        AvroSchema candidate,
        IReadOnlyList<(int Version, AvroSchema Schema)> existingOldestFirst,
        SchemaWorkBudget? budget = null,
        int maxMessages = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessages);
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
                messages.AddRange(Find(candidate, old, budget, maxMessages, messages).Select(x =>
                    $"{x}: the new schema cannot read data written with version {version}"));
            }

            if (forward)
            {
                messages.AddRange(Find(old, candidate, budget, maxMessages, messages).Select(x =>
                    $"{x}: version {version} cannot read data written with the new schema"));
            }

            if (messages.Count > maxMessages)
            {
                messages.RemoveRange(maxMessages, messages.Count - maxMessages);
                messages.Add($"more incompatibilities were found; the first {maxMessages} are listed");
                break;
            }
        }

        return messages;
    }

    // One more than still fits, so that a full list can tell that something was left out.
    private static IReadOnlyList<Incompatibility> Find(AvroSchema reader, AvroSchema writer, SchemaWorkBudget? budget, int maxMessages, List<string> listed) =>
        listed.Count > maxMessages ? [] : SchemaCompatibility.Check(reader, writer, budget, (int)Math.Min(int.MaxValue, (long)maxMessages - listed.Count + 1));
}
