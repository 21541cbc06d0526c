namespace Orders.Processor.Checkpoints;

/// <summary>
/// The checkpoint side's bookkeeping of one partition's state: what its newest acknowledged
/// checkpoint covers, whether one is in flight, and when the next is due. Written by <see cref="CheckpointWriter"/>,
/// <see cref="CheckpointSchedule"/> and <see cref="CheckpointCoordinator"/> through these methods only.
/// </summary>
public sealed class CheckpointTrack(long restoredOffset)
{
    /// <summary>Keys of the stats records of checkpoints the next acknowledged one supersedes: the writer deletes them then.</summary>
    private readonly List<string> _superseded = [];

    /// <summary>The offset the newest acknowledged checkpoint covers up to (the restored one's at first).</summary>
    public long CoveredOffset { get; private set; } = restoredOffset;

    /// <summary>The state's version that checkpoint covers.</summary>
    public long CoveredVersion { get; private set; }

    public bool InFlight { get; private set; }

    /// <summary>When the next checkpoint is due (see <see cref="CheckpointSchedule"/>).</summary>
    public long DueAt { get; private set; }

    public void Began() => InFlight = true;

    /// <summary>These records hold a checkpoint (or part of one) that the next acknowledged checkpoint supersedes.</summary>
    public void Supersede(IEnumerable<string> keys) => _superseded.AddRange(keys);

    /// <returns>The keys superseded so far; the list is emptied.</returns>
    public IReadOnlyList<string> TakeSuperseded()
    {
        var keys = _superseded.Distinct(StringComparer.Ordinal).ToList();
        _superseded.Clear();
        return keys;
    }

    /// <summary>Every chunk of the checkpoint was acknowledged: it now covers <paramref name="offset"/> and <paramref name="version"/>.</summary>
    public void Covered(long offset, long version)
    {
        InFlight = false;
        CoveredOffset = offset;
        CoveredVersion = version;
    }

    /// <summary>The checkpoint was not written (or its partition was released meanwhile); the next one tries again.</summary>
    public void Ended() => InFlight = false;

    public void DueFrom(long at) => DueAt = at;
}
