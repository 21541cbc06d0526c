namespace Orders.Kafka;

/// <summary>
/// The group ids of the readers that join no group (<see cref="PartitionRangeReader"/>, the
/// dead-letter tools' reader): derived from the group they read for, so that one prefixed ACL on
/// that group (<c>kafka-acls.sh --resource-pattern-type prefixed --group order-processor</c>)
/// covers them too. They never join or commit, but librdkafka demands a group id of every
/// consumer, and a secured cluster checks Describe/Read on it (docs/SECURITY.md).
/// </summary>
public static class ReaderGroups
{
    /// <summary>The range reader's id (checkpoints, dead letters at restore, <c>orders stats</c>): <c>&lt;group&gt;.reader</c>.</summary>
    public static string Range(string group) => Checked(group) + ".reader";

    /// <summary>The dead-letter tools' reader id (<c>orders dlq list/show/replay</c>): <c>&lt;group&gt;.dlq-reader</c>.</summary>
    public static string DeadLetters(string group) => Checked(group) + ".dlq-reader";

    /// <summary>The group a reader reads for: the <c>group.id</c> of the settings it was given.</summary>
    /// <exception cref="ArgumentException">The settings name no group.</exception>
    public static string GroupOf(IEnumerable<KeyValuePair<string, string>> config) =>
        config.FirstOrDefault(p => p.Key == "group.id").Value is { Length: > 0 } group
            ? group
            : throw new ArgumentException("the reader's settings name no group.id: the group it reads for, from which its own id is derived", nameof(config));

    /// <summary>
    /// The longest group id, in UTF-8 bytes: Kafka's strings are at most 32,767 bytes, and the readers' ids add
    /// their suffix to it. A longer one was refused by the broker only after a minute of retries.
    /// </summary>
    public const int MaxGroupBytes = 32_767 - 11;

    /// <summary>Why <paramref name="group"/> cannot be a consumer group id here, or null when it can.</summary>
    /// <remarks>Kafka takes any string; a control character would also split the log lines that name the group.</remarks>
    public static string? Problem(string? group) =>
        string.IsNullOrWhiteSpace(group) ? "must not be empty"
        : group.Any(char.IsControl) ? "must not hold control characters (a line break, a tab)"
        : System.Text.Encoding.UTF8.GetByteCount(group) > MaxGroupBytes ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"is longer than the {MaxGroupBytes:N0} bytes a group id may be")
        : null;

    private static string Checked(string group) =>
        string.IsNullOrWhiteSpace(group) ? throw new ArgumentException("a reader's group must not be empty", nameof(group)) : group;
}
