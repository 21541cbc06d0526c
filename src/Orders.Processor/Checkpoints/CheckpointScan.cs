namespace Orders.Processor.Checkpoints;

/// <summary>
/// Reads one partition's checkpoint records in log order, as compaction leaves them or not, and
/// keeps the newest complete checkpoint: chunks are gathered by checkpoint id, the one completed
/// last wins, and a tombstone takes its chunk away (as compaction would, later).
/// </summary>
public sealed class CheckpointScan
{
    private readonly Dictionary<string, Dictionary<int, (CheckpointChunk Chunk, string Key)>> _open = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _idOfKey = new(StringComparer.Ordinal);

    /// <summary>The newest checkpoint all of whose chunks were offered, with the keys they came under.</summary>
    public PartitionCheckpoint? Latest { get; private set; }

    /// <summary>A chunk, read under <paramref name="key"/>.</summary>
    public void Offer(string key, CheckpointChunk chunk)
    {
        var id = chunk.Checkpoint.CheckpointId;
        if (!_open.TryGetValue(id, out var chunks))
        {
            chunks = [];
            _open[id] = chunks;
        }

        // A key read again holds a newer record: what it held before is gone.
        Deleted(key);
        chunks[chunk.Chunk] = (chunk, key);
        _idOfKey[key] = id;
        if (CheckpointCodec.Assemble([.. chunks.Values.Select(c => c.Chunk)]) is { } complete)
        {
            Latest = complete with { ChunkKeys = [.. chunks.Values.OrderBy(c => c.Chunk.Chunk).Select(c => c.Key)] };
            _open.Remove(id);
        }
    }

    /// <summary>A tombstone under <paramref name="key"/>: the chunk it held cannot complete a checkpoint any more.</summary>
    public void Deleted(string key)
    {
        if (_idOfKey.Remove(key, out var id) && _open.TryGetValue(id, out var chunks))
        {
            foreach (var index in chunks.Where(c => c.Value.Key == key).Select(c => c.Key).ToList())
            {
                chunks.Remove(index);
            }
        }
    }
}
