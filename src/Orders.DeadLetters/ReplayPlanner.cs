using System.Globalization;

namespace Orders.DeadLetters;

/// <summary>Headers a replayed record carries besides the original's own (docs/DEAD-LETTERS.md).</summary>
public static class ReplayHeaders
{
    /// <summary>The dead letter the record was replayed from, as <c>topic/partition@offset</c>: <c>orders_dlq/3@1234</c>.</summary>
    public const string ReplayedFrom = "dlq.replayed.from";

    /// <summary>
    /// The record that dead letter was made of, as <c>topic/partition@offset</c>: <c>orders/2@17</c>. It lets a
    /// later replay recognise the origin as replayed even when the letter named in <see cref="ReplayedFrom"/> has
    /// left the dead-letter topic and only a duplicate of it remains.
    /// </summary>
    public const string ReplayedOrigin = "dlq.replayed.origin";
}

public enum ReplayOutcome
{
    /// <summary>Planned: to be published (what a dry run reports).</summary>
    Replay,

    /// <summary>Published and acknowledged by this run.</summary>
    Replayed,

    /// <summary>A replay of its original record is already in the original partition.</summary>
    AlreadyReplayed,

    /// <summary>Another selected dead letter of the same original record stands for it.</summary>
    Duplicate,

    /// <summary>Cannot be replayed (see the detail); reported, never dropped silently.</summary>
    Skipped,

    /// <summary>The publish was not acknowledged (a rerun finds out whether it landed), or a truncated letter's original could not be read (a rerun tries again).</summary>
    Failed,

    /// <summary>Not published because the run was cancelled first.</summary>
    Interrupted,
}

/// <summary>What happens, or happened, to one selected dead letter.</summary>
/// <param name="Related">For a duplicate, the letter that stands for it; for an already replayed letter, where its replay is.</param>
/// <param name="ReplayedAs">Where this run's copy landed.</param>
public sealed record ReplayDecision(DeadLetter Letter, ReplayOutcome Outcome, string? Detail = null, RecordPosition? Related = null, RecordPosition? ReplayedAs = null);

/// <summary>The selected dead letters of one original record, in dead-letter-topic order.</summary>
public sealed record OriginGroup(RecordPosition Original, IReadOnlyList<DeadLetter> Letters);

/// <summary>
/// The replays already in one original partition, found by reading it from <see cref="CompleteFrom"/>
/// to its end. A replay of the letter for original record (T, p, o) can only sit in T[p] at an offset
/// above o, so a scan from o + 1 sees every replay of that record there is.
/// </summary>
/// <param name="end">The partition's end (high watermark) when it was scanned: an original at or past it is not in this partition.</param>
public sealed class ReplayHistory(string topic, int partition, long completeFrom, long end)
{
    private readonly Dictionary<long, long> _byOrigin = [];

    // By the letter a copy names and the origin it names (null: a copy from before origins were written).
    // A letter's position alone can name another letter: a dead-letter topic recreated (purged) numbers
    // its letters from 0 again.
    private readonly Dictionary<(string Letter, long? Origin), long> _byLetter = [];

    /// <summary>The lowest offset the scan read from; earlier ones were not asked for or are gone.</summary>
    public long CompleteFrom { get; } = completeFrom;

    /// <summary>The partition's end when it was scanned.</summary>
    public long End { get; } = end;

    public void Record(long offset, string? replayedFrom, string? replayedOrigin)
    {
        long? origin = null;
        if (RecordPosition.TryParse(replayedOrigin, out var position))
        {
            if (position.Topic != topic || position.Partition != partition)
            {
                // A copy of another partition's record (moved here by hand): not a replay of any record of this one.
                return;
            }

            origin = position.Offset;
            _byOrigin.TryAdd(position.Offset, offset);
        }

        if (replayedFrom is not null)
        {
            _byLetter.TryAdd((replayedFrom, origin), offset);
        }
    }

    /// <returns>Where the group's original record was replayed to, and from which of its letters if the copy says; null if nowhere.</returns>
    public (long Offset, DeadLetter? From)? Find(OriginGroup group)
    {
        // A replay of record o lands after it: a copy at or before o is of something else.
        var original = group.Original.Offset;
        foreach (var letter in group.Letters)
        {
            var name = letter.Position.ToString();
            if ((_byLetter.TryGetValue((name, original), out var at) || _byLetter.TryGetValue((name, null), out at)) && at > original)
            {
                return (at, letter);
            }
        }

        return _byOrigin.TryGetValue(original, out var offset) && offset > original ? (offset, null) : null;
    }
}

/// <summary>
/// Decides, without any I/O, what a replay does with each selected dead letter: each original record is
/// replayed at most once, by its first letter in dead-letter-topic order; the others are duplicates.
/// </summary>
public static class ReplayPlanner
{
    /// <param name="selected">Letters of the dead-letter topic of <paramref name="sourceTopic"/>.</param>
    /// <param name="sourceTopic">The topic whose dead letters these are: the only one a replay writes to.</param>
    /// <returns>
    /// Letters that name no original record, or one outside <paramref name="sourceTopic"/> (skipped: a letter
    /// naming another topic, the stats topic say, is not a dead letter of this one), and the rest grouped by
    /// original record.
    /// </returns>
    public static (IReadOnlyList<ReplayDecision> Unreplayable, IReadOnlyList<OriginGroup> Groups) Group(IEnumerable<DeadLetter> selected, string sourceTopic)
    {
        var unreplayable = new List<ReplayDecision>();
        var groups = new Dictionary<RecordPosition, List<DeadLetter>>();
        foreach (var letter in selected.OrderBy(l => l.Position.Partition).ThenBy(l => l.Position.Offset))
        {
            if (letter.Original is not { } original)
            {
                unreplayable.Add(new ReplayDecision(letter, ReplayOutcome.Skipped, $"no original record to replay to: {letter.Problem}"));
                continue;
            }

            if (original.Topic != sourceTopic)
            {
                unreplayable.Add(new ReplayDecision(
                    letter, ReplayOutcome.Skipped, $"its origin {original} is not in {sourceTopic}, whose dead letters these are: a replay writes only to {sourceTopic}"));
                continue;
            }

            if (!groups.TryGetValue(original, out var letters))
            {
                groups[original] = letters = [];
            }

            letters.Add(letter);
        }

        return (unreplayable, groups.Select(g => new OriginGroup(g.Key, g.Value)).ToList());
    }

    /// <returns>For each original partition, where the scan for earlier replays must start: right after its lowest original offset.</returns>
    public static IReadOnlyDictionary<(string Topic, int Partition), long> ScanStarts(IEnumerable<OriginGroup> groups) =>
        groups.GroupBy(g => (g.Original.Topic, g.Original.Partition))
            .ToDictionary(g => g.Key, g => g.Min(x => x.Original.Offset) + 1);

    /// <param name="targetProblem">Why an original partition cannot take a replay (it does not exist), or null.</param>
    /// <param name="histories">The scan of every original partition that can.</param>
    /// <returns>One decision per letter; the replays ordered by original partition and offset, so a partition's order is kept.</returns>
    public static IReadOnlyList<ReplayDecision> Decide(
        IEnumerable<OriginGroup> groups,
        Func<string, int, string?> targetProblem,
        IReadOnlyDictionary<(string Topic, int Partition), ReplayHistory> histories)
    {
        var decisions = new List<ReplayDecision>();
        foreach (var group in groups.OrderBy(g => g.Original.Topic, StringComparer.Ordinal).ThenBy(g => g.Original.Partition).ThenBy(g => g.Original.Offset))
        {
            var original = group.Original;
            if (targetProblem(original.Topic, original.Partition) is { } problem)
            {
                decisions.AddRange(group.Letters.Select(l => new ReplayDecision(l, ReplayOutcome.Skipped, problem)));
                continue;
            }

            var history = histories[(original.Topic, original.Partition)];
            if (original.Offset >= history.End)
            {
                // A copy would land at the partition's end, below o, where the next run's scan (from o + 1) cannot see it.
                var past = string.Create(CultureInfo.InvariantCulture, $"{original.Topic}[{original.Partition}] ends at offset {history.End}, before its original offset {original.Offset}: the topic was recreated since, or the letter's origin header is wrong; that record is not there; not replayed, to never replay twice");
                decisions.AddRange(group.Letters.Select(l => new ReplayDecision(l, ReplayOutcome.Skipped, past)));
                continue;
            }

            if (history.Find(group) is var (offset, from))
            {
                var standIn = from ?? group.Letters[0];
                var replay = new RecordPosition(original.Topic, original.Partition, offset);
                decisions.Add(new ReplayDecision(standIn, ReplayOutcome.AlreadyReplayed, $"already replayed as {replay}", Related: replay));
                decisions.AddRange(group.Letters.Where(l => l != standIn).Select(l => Duplicate(l, standIn)));
                continue;
            }

            if (original.Offset + 1 < history.CompleteFrom)
            {
                var gone = string.Create(CultureInfo.InvariantCulture, $"{original.Topic}[{original.Partition}] no longer holds offsets {original.Offset + 1} to {history.CompleteFrom - 1} (retention), where an earlier replay may be: not replayed, to never replay twice");
                decisions.AddRange(group.Letters.Select(l => new ReplayDecision(l, ReplayOutcome.Skipped, gone)));
                continue;
            }

            decisions.Add(new ReplayDecision(group.Letters[0], ReplayOutcome.Replay));
            decisions.AddRange(group.Letters.Skip(1).Select(l => Duplicate(l, group.Letters[0])));
        }

        return decisions;
    }

    private static ReplayDecision Duplicate(DeadLetter letter, DeadLetter of) =>
        new(letter, ReplayOutcome.Duplicate, $"duplicate of {of.Position} (same original record)", Related: of.Position);
}
