using System.Text.Json;
using Orders.DeadLetters;

namespace Orders.Cli.Output;

/// <summary>How <c>orders dlq replay</c> reports: a line per decision and a summary for people, one JSON document for tools.</summary>
internal static class ReplayText
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string ReplayLine(ReplayDecision decision)
    {
        var letter = decision.Letter.Position;
        var original = decision.Letter.Original?.ToString() ?? "?";
        // A truncated letter's record is read from its original.
        var from = decision.Letter.Truncated is null ? "" : ", read there: the letter was truncated";
        return decision.Outcome switch
        {
            ReplayOutcome.Replayed => $"replayed         {letter} -> {decision.ReplayedAs} (original {original}{from})",
            ReplayOutcome.Replay => $"would replay     {letter} -> {decision.Letter.Original!.Value.Topic}[{decision.Letter.Original!.Value.Partition}] (original {original}{from})",
            ReplayOutcome.AlreadyReplayed => $"already replayed {letter}: {TerminalText.Printable(decision.Detail ?? "")}",
            ReplayOutcome.Duplicate => $"duplicate        {letter}: {TerminalText.Printable(decision.Detail ?? "")}",
            ReplayOutcome.Skipped => $"skipped          {letter}: {TerminalText.Printable(decision.Detail ?? "")}",
            ReplayOutcome.Failed => $"FAILED           {letter}: {TerminalText.Printable(decision.Detail ?? "")}",
            _ => $"interrupted      {letter}: {TerminalText.Printable(decision.Detail ?? "")}",
        };
    }

    public static string ReplaySummary(ReplayReport report)
    {
        var replayed = report.DryRun
            ? $"Dry run: would replay {report.Count(ReplayOutcome.Replay)}"
            : $"Replayed {report.Count(ReplayOutcome.Replayed)}";
        var interrupted = report.Count(ReplayOutcome.Interrupted) is > 0 and var n ? $", {n} interrupted" : "";
        return $"{replayed} of {report.Selected} selected dead letter(s) ({report.InTopic} in {report.DeadLetterTopic}): "
            + $"{report.Count(ReplayOutcome.AlreadyReplayed)} already replayed, {report.Count(ReplayOutcome.Duplicate)} duplicate(s), "
            + $"{report.Count(ReplayOutcome.Skipped)} skipped, {report.Count(ReplayOutcome.Failed)} failed{interrupted}; "
            + $"read {report.Scanned} record(s) to find earlier replays.";
    }

    public static string ReplayJson(ReplayReport report) => JsonSerializer.Serialize(
        new Dictionary<string, object?>
        {
            ["replayed"] = report.Count(ReplayOutcome.Replayed),
            ["skipped"] = report.Count(ReplayOutcome.Skipped),
            ["alreadyReplayed"] = report.Count(ReplayOutcome.AlreadyReplayed),
            ["duplicates"] = report.Count(ReplayOutcome.Duplicate),
            ["failed"] = report.Count(ReplayOutcome.Failed),
            ["interrupted"] = report.Count(ReplayOutcome.Interrupted),
            ["wouldReplay"] = report.Count(ReplayOutcome.Replay),
            ["dryRun"] = report.DryRun,
            ["selected"] = report.Selected,
            ["inTopic"] = report.InTopic,
            ["topic"] = report.DeadLetterTopic,
            ["scanned"] = report.Scanned,
            ["letters"] = report.Decisions
                .OrderBy(d => d.Letter.Position.Partition).ThenBy(d => d.Letter.Position.Offset)
                .Select(d => new Dictionary<string, object?>
                {
                    ["letter"] = d.Letter.Position.ToString(),
                    ["partition"] = d.Letter.Position.Partition,
                    ["offset"] = d.Letter.Position.Offset,
                    ["original"] = d.Letter.Original?.ToString(),
                    ["outcome"] = Outcome(d.Outcome),
                    ["detail"] = d.Detail,
                    ["replayedAs"] = d.ReplayedAs?.ToString(),
                    ["related"] = d.Related?.ToString(),
                })
                .ToList(),
        },
        Json);

    private static string Outcome(ReplayOutcome outcome) => outcome switch
    {
        ReplayOutcome.Replay => "would-replay",
        ReplayOutcome.Replayed => "replayed",
        ReplayOutcome.AlreadyReplayed => "already-replayed",
        ReplayOutcome.Duplicate => "duplicate",
        ReplayOutcome.Skipped => "skipped",
        ReplayOutcome.Failed => "failed",
        _ => "interrupted",
    };
}
