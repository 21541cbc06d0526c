using Confluent.Kafka;
using Orders.Kafka;

namespace Orders.Processor.DeadLetters;

/// <summary>A decision already taken for a record: it was dead-lettered, at this offset of the dead-letter partition.</summary>
public readonly record struct DeadLetterDecision(string Reason, long DeadLetterOffset);

/// <summary>What to read back for one input partition being restored.</summary>
/// <param name="FromSourceOffset">Only dead letters of records at or after this offset matter (the checkpoint covers the rest).</param>
/// <param name="FromDeadLetterOffset">The checkpoint's bound: such dead letters sit at or after this offset.</param>
public sealed record LedgerRequest(string Topic, int Partition, string Group, long FromSourceOffset, int DeadLetterPartition, long FromDeadLetterOffset);

/// <param name="Decisions">Dead letters found, by the offset of the record they stand for.</param>
/// <param name="End">How far the dead-letter partition was read: later dead letters were written after the restore.</param>
/// <param name="Duplicates">Dead letters of a record already found (a timed-out write that landed after all).</param>
public sealed record LedgerScan(IReadOnlyDictionary<long, DeadLetterDecision> Decisions, long End, int Duplicates);

/// <summary>
/// Reads back the dead letters written for input partitions since their checkpoints, so that a
/// restored partition honours decisions taken before a crash instead of taking them again.
/// </summary>
public sealed class DeadLetterLedger(PartitionRangeReader reader)
{
    /// <exception cref="KafkaException">The dead-letter topic cannot be read.</exception>
    /// <exception cref="TimeoutException">Reading took longer than <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for the broker.</exception>
    public IReadOnlyDictionary<LedgerRequest, LedgerScan> ReadBack(
        string deadLetterTopic, IReadOnlyList<LedgerRequest> requests, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var found = requests.ToDictionary(r => r, _ => new Dictionary<long, DeadLetterDecision>());
        var duplicates = requests.ToDictionary(r => r, _ => 0);
        var byDeadLetterPartition = requests.GroupBy(r => r.DeadLetterPartition).ToDictionary(g => g.Key, g => g.ToList());
        var starts = byDeadLetterPartition
            .Select(g => new TopicPartitionOffset(deadLetterTopic, g.Key, g.Value.Min(r => r.FromDeadLetterOffset)))
            .ToList();

        var ends = reader.Read(starts, timeout, letter =>
        {
            if (DeadLetterOrigin.From(letter.Message.Headers) is not { } origin)
            {
                return;
            }

            foreach (var request in byDeadLetterPartition[letter.Partition.Value])
            {
                if (letter.Offset.Value >= request.FromDeadLetterOffset
                    && origin.Offset >= request.FromSourceOffset
                    && origin.Partition == request.Partition
                    && origin.Topic == request.Topic
                    && origin.Group == request.Group)
                {
                    if (!found[request].TryAdd(origin.Offset, new DeadLetterDecision(origin.Reason, letter.Offset.Value)))
                    {
                        duplicates[request]++;
                    }
                }
            }
        }, cancellationToken);

        return requests.ToDictionary(
            r => r,
            r => new LedgerScan(found[r], ends[new TopicPartition(deadLetterTopic, r.DeadLetterPartition)], duplicates[r]));
    }
}
