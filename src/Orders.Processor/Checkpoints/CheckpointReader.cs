using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Checkpoints;

/// <summary>
/// Finds the newest complete checkpoint of a group for each partition of a stats topic. It reads
/// each partition's tail and widens the window until a complete checkpoint turns up or the
/// partition's start is reached, so a compacted topic and the local stack's uncompacted,
/// retention-trimmed one cost about the same: a few records.
/// </summary>
public sealed class CheckpointReader(PartitionRangeReader reader, CheckpointSerde serde, ILogger logger)
{
    private const int FirstWindow = 64;
    private const int WindowGrowth = 8;

    /// <returns>For each partition asked for, its newest complete checkpoint, or null where there is none.</returns>
    /// <exception cref="RegistryUnavailableException">A checkpoint's schema is needed and the registry cannot be reached.</exception>
    /// <exception cref="KafkaException">The stats topic cannot be read.</exception>
    /// <exception cref="TimeoutException">Reading took longer than <paramref name="timeout"/>.</exception>
    /// <exception cref="OperationCanceledException">Cancelled while waiting for the broker.</exception>
    public IReadOnlyDictionary<int, PartitionCheckpoint?> ReadLatest(
        string statsTopic, string group, IReadOnlyCollection<int> partitions, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var found = new Dictionary<int, PartitionCheckpoint?>();
        var window = new Dictionary<int, long>();
        var watermarks = new Dictionary<int, WatermarkOffsets>();
        foreach (var partition in partitions)
        {
            watermarks[partition] = reader.Watermarks(new TopicPartition(statsTopic, partition), timeout, cancellationToken);
            window[partition] = FirstWindow;
            found[partition] = null;
        }

        var open = partitions.Where(p => watermarks[p].High.Value > watermarks[p].Low.Value).ToList();
        while (open.Count > 0)
        {
            var starts = open.Select(p => new TopicPartitionOffset(statsTopic, p, Math.Max(watermarks[p].Low.Value, watermarks[p].High.Value - window[p]))).ToList();
            var scans = open.ToDictionary(p => p, p => new Scan(CheckpointCodec.KeyPrefixFor(group, p)));
            reader.Read(starts, timeout, record => scans[record.Partition.Value].Offer(record, serde, this, group), cancellationToken);

            var next = new List<int>();
            foreach (var start in starts)
            {
                var partition = start.Partition.Value;
                if (scans[partition].Latest is { } latest)
                {
                    found[partition] = latest;
                }
                else if (start.Offset.Value > watermarks[partition].Low.Value)
                {
                    window[partition] *= WindowGrowth;
                    next.Add(partition);
                }
            }

            open = next;
        }

        return found;
    }

    private void Skipped(ConsumeResult<byte[]?, byte[]?> record, string why) =>
        Log.CheckpointSkipped(logger, record.Topic, record.Partition.Value, record.Offset.Value, why);

    /// <summary>One partition's window: the records of the group's checkpoints, decoded, into a <see cref="CheckpointScan"/>.</summary>
    private sealed class Scan(string keyPrefix)
    {
        private readonly CheckpointScan _scan = new();

        public PartitionCheckpoint? Latest => _scan.Latest;

        public void Offer(ConsumeResult<byte[]?, byte[]?> record, CheckpointSerde serde, CheckpointReader owner, string group)
        {
            var key = record.Message.Key is { } bytes ? Encoding.UTF8.GetString(bytes) : null;
            if (key is null || !key.StartsWith(keyPrefix, StringComparison.Ordinal))
            {
                return;
            }

            if (record.Message.Value is null)
            {
                _scan.Deleted(key);
                return;
            }

            CheckpointChunk chunk;
            try
            {
                // On the restore's own thread, which waits; the registry is asked once per schema id.
                chunk = LoopThread.Wait(() => serde.DeserializeAsync(record.Message.Value));
            }
            catch (InvalidDataException e)
            {
                owner.Skipped(record, e.Message);
                return;
            }

            if (chunk.Checkpoint.Group != group || chunk.Checkpoint.Partition != record.Partition.Value)
            {
                owner.Skipped(record, $"it belongs to group {chunk.Checkpoint.Group}, partition {chunk.Checkpoint.Partition}");
                return;
            }

            _scan.Offer(key, chunk);
        }
    }
}
