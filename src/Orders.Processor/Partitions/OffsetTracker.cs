namespace Orders.Processor.Partitions;

/// <summary>
/// Which offsets of one partition are done, when records complete out of order (Confluent Parallel
/// Consumer's model): everything below <see cref="LowestIncomplete"/>, and the completed offsets
/// above it, kept as sorted, merged runs. A checkpoint carries both, so a restore skips exactly what
/// was done and processes the rest. In-order completion (the common case) touches only a counter.
/// </summary>
public sealed class OffsetTracker
{
    /// <summary>
    /// Above what a processor lets build up, so a checkpoint claiming more is corrupt: a partition pauses
    /// at <c>Processor:MaxOutOfOrder</c> (at most 1,000,000), and then completes at most what it has
    /// outstanding (<c>Processor:MaxBuffered</c>, at most 1,000,000).
    /// </summary>
    public const int MaxCompletedAbove = 2_000_000;

    // Runs [Start, End) above LowestIncomplete, sorted, neither touching nor overlapping.
    private readonly List<(long Start, long End)> _runs = [];

    /// <param name="lowestIncomplete">The restored checkpoint's offset.</param>
    /// <param name="completedRanges">Completed offsets above it, as <see cref="ToRanges"/> wrote them.</param>
    /// <exception cref="InvalidDataException">The ranges are not pairs of a gap and a positive length, or claim too much.</exception>
    public OffsetTracker(long lowestIncomplete, IReadOnlyList<long>? completedRanges = null)
    {
        LowestIncomplete = lowestIncomplete;
        if (completedRanges is not { Count: > 0 })
        {
            return;
        }

        if (completedRanges.Count % 2 != 0)
        {
            throw new InvalidDataException("completed offsets are not pairs of a gap and a length");
        }

        var next = lowestIncomplete;
        for (var i = 0; i < completedRanges.Count; i += 2)
        {
            var (gap, length) = (completedRanges[i], completedRanges[i + 1]);
            if (gap < 1 || length < 1)
            {
                throw new InvalidDataException("completed offsets are not pairs of a positive gap and a positive length");
            }

            var start = next + gap;
            _runs.Add((start, start + length));
            CompletedAboveCount += length;
            next = start + length;
        }

        if (CompletedAboveCount > MaxCompletedAbove)
        {
            throw new InvalidDataException($"more than {MaxCompletedAbove} completed offsets above the checkpoint's offset");
        }
    }

    /// <summary>Every record below this offset is done; this one is not (or has not arrived).</summary>
    public long LowestIncomplete { get; private set; }

    /// <summary>Completed records above <see cref="LowestIncomplete"/>: what a restore must not process again.</summary>
    public long CompletedAboveCount { get; private set; }

    public bool IsDone(long offset)
    {
        if (offset < LowestIncomplete)
        {
            return true;
        }

        var i = IndexOfRunAfter(offset) - 1;
        return i >= 0 && offset < _runs[i].End;
    }

    /// <summary>The record at <paramref name="offset"/> is done (processed, dead-lettered, honoured, or never to come).</summary>
    /// <returns>False when it was done already.</returns>
    public bool Complete(long offset) => CompleteRange(offset, offset + 1) > 0;

    /// <summary>The records of [<paramref name="from"/>, <paramref name="to"/>) are done.</summary>
    /// <returns>How many of them were not done before.</returns>
    public long CompleteRange(long from, long to)
    {
        from = Math.Max(from, LowestIncomplete);
        if (from >= to)
        {
            return 0;
        }

        if (from == LowestIncomplete && (_runs.Count == 0 || to < _runs[0].Start))
        {
            // In order: the fast path.
            LowestIncomplete = to;
            return to - from;
        }

        // Merge [from, to) into the runs, counting what is new.
        var added = to - from;
        var i = IndexOfRunAfter(from) - 1;
        if (i >= 0 && _runs[i].End >= from)
        {
            added -= Math.Max(0, Math.Min(_runs[i].End, to) - from);
            from = _runs[i].Start;
            to = Math.Max(to, _runs[i].End);
            _runs.RemoveAt(i);
        }
        else
        {
            i++;
        }

        while (i < _runs.Count && _runs[i].Start <= to)
        {
            added -= Math.Max(0, Math.Min(_runs[i].End, to) - Math.Max(_runs[i].Start, from));
            to = Math.Max(to, _runs[i].End);
            _runs.RemoveAt(i);
        }

        if (from <= LowestIncomplete)
        {
            LowestIncomplete = to;
        }
        else
        {
            _runs.Insert(i, (from, to));
        }

        Recount();
        return added;
    }

    /// <summary>
    /// The completed offsets above <see cref="LowestIncomplete"/> as runs: pairs of (gap since the end of
    /// the previous run, or since <see cref="LowestIncomplete"/>; run length). Small numbers, a byte or
    /// two each as Avro varints however large the offsets are: scattered completions cost a few bytes
    /// each, a long run a few bytes in all.
    /// </summary>
    public long[] ToRanges()
    {
        var ranges = new long[_runs.Count * 2];
        var previousEnd = LowestIncomplete;
        for (var i = 0; i < _runs.Count; i++)
        {
            ranges[2 * i] = _runs[i].Start - previousEnd;
            ranges[(2 * i) + 1] = _runs[i].End - _runs[i].Start;
            previousEnd = _runs[i].End;
        }

        return ranges;
    }

    /// <summary>The first run that starts after <paramref name="offset"/>.</summary>
    private int IndexOfRunAfter(long offset)
    {
        var (low, high) = (0, _runs.Count);
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (_runs[middle].Start <= offset)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    private void Recount()
    {
        // A run that reached down to the lowest incomplete offset has become part of it.
        while (_runs.Count > 0 && _runs[0].Start <= LowestIncomplete)
        {
            LowestIncomplete = Math.Max(LowestIncomplete, _runs[0].End);
            _runs.RemoveAt(0);
        }

        CompletedAboveCount = 0;
        foreach (var run in _runs)
        {
            CompletedAboveCount += run.End - run.Start;
        }
    }
}
