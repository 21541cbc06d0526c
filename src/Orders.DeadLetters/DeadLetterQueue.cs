using System.Globalization;
using Orders.Contracts;

namespace Orders.DeadLetters;

/// <summary>The dead-letter topic of a source topic does not exist.</summary>
public sealed class DeadLetterTopicNotFoundException(string topic)
    : Exception($"dead-letter topic '{topic}' does not exist (is --topic the source topic?)")
{
    public string Topic { get; } = topic;
}

/// <summary>What <see cref="DeadLetterQueue.Find"/> found: the letter, or why there is none.</summary>
/// <param name="Ambiguous">True when a bare offset matched several partitions: the address, not the topic, is at fault.</param>
public sealed record LetterLookup(DeadLetter? Letter, string? Error, bool Ambiguous = false);

/// <summary>Reads the dead-letter topic of a source topic, whole or one record at a time, through a group-less <see cref="TopicReader"/>.</summary>
/// <param name="sourceTopic">The topic the processor reads; its dead letters are in <see cref="Topics.DeadLetterFor"/> of it.</param>
public sealed class DeadLetterQueue(TopicReader reader, string sourceTopic)
{
    /// <summary>The topic whose dead letters these are.</summary>
    public string SourceTopic { get; } = sourceTopic;

    /// <summary>The dead-letter topic.</summary>
    public string Topic { get; } = Topics.DeadLetterFor(sourceTopic);

    /// <exception cref="DeadLetterTopicNotFoundException">The topic does not exist.</exception>
    /// <exception cref="TopicReadException">The cluster did not answer.</exception>
    public IReadOnlyList<PartitionRange> Ranges() => reader.Ranges(Topic) ?? throw new DeadLetterTopicNotFoundException(Topic);

    /// <summary>Every letter the topic holds now, from each partition's low to its high watermark.</summary>
    /// <exception cref="DeadLetterTopicNotFoundException">The topic does not exist.</exception>
    /// <exception cref="TopicReadException">Retention removed records under the read, or the cluster stopped answering.</exception>
    public IEnumerable<DeadLetter> ReadAll(CancellationToken cancellationToken) => ReadAll(Ranges(), cancellationToken);

    public IEnumerable<DeadLetter> ReadAll(IReadOnlyList<PartitionRange> ranges, CancellationToken cancellationToken) =>
        reader.Read(Topic, ranges, cancellationToken).Select(DeadLetter.From);

    /// <summary>The letter at an address; a bare offset resolves only if exactly one partition holds it.</summary>
    /// <exception cref="DeadLetterTopicNotFoundException">The topic does not exist.</exception>
    /// <exception cref="TopicReadException">The cluster did not answer.</exception>
    public LetterLookup Find(LetterAddress address, CancellationToken cancellationToken)
    {
        var ranges = Ranges();
        PartitionRange range;
        if (address.Partition is { } partition)
        {
            if (ranges.All(r => r.Partition != partition))
            {
                return new LetterLookup(null, $"{Topic} has no partition {partition} (it has {Describe(ranges.Select(r => r.Partition))})");
            }

            range = ranges.Single(r => r.Partition == partition);
            if (!range.Contains(address.Offset))
            {
                return new LetterLookup(null, $"{Topic} partition {partition} holds {Holds(range)}, not offset {address.Offset}");
            }
        }
        else
        {
            var holding = ranges.Where(r => r.Contains(address.Offset)).ToList();
            if (holding.Count == 0)
            {
                return new LetterLookup(null, $"no partition of {Topic} holds offset {address.Offset} ({string.Join("; ", ranges.Select(r => $"{r.Partition}: {Holds(r)}"))})");
            }

            if (holding.Count > 1)
            {
                return new LetterLookup(
                    null,
                    $"offset {address.Offset} is in partitions {Describe(holding.Select(r => r.Partition))} of {Topic}: give PARTITION:OFFSET, e.g. {holding[0].Partition}:{address.Offset}",
                    Ambiguous: true);
            }

            range = holding[0];
        }

        var one = new PartitionRange(range.Partition, address.Offset, address.Offset + 1);
        var record = reader.Read(Topic, [one], cancellationToken).FirstOrDefault();
        return record is not null && record.Offset.Value == address.Offset
            ? new LetterLookup(DeadLetter.From(record), null)
            : new LetterLookup(null, $"{Topic} partition {range.Partition} has no record at offset {address.Offset} (compacted away, or a transaction marker)");
    }

    private static string Holds(PartitionRange range) => range.Count == 0
        ? "no records"
        : string.Create(CultureInfo.InvariantCulture, $"offsets {range.Low} to {range.High - 1}");

    private static string Describe(IEnumerable<int> partitions) => string.Join(", ", partitions);
}
