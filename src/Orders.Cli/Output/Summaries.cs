using System.Globalization;
using System.Text.Json;
using Orders.Processor.Aggregates;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Orders.Producer;

namespace Orders.Cli.Output;

/// <summary>The end-of-run summaries, as one JSON document (<c>--json</c>) or as text.</summary>
internal static class Summaries
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static string ToJson(ProducerSummary summary) => JsonSerializer.Serialize(ProducerDocument(summary), JsonOptions);

    /// <summary>The summary of a run that failed after it had sent orders, with the error that ended it.</summary>
    public static string ToJson(ProducerSummary summary, string error)
    {
        var document = ProducerDocument(summary);
        document["error"] = error;
        return JsonSerializer.Serialize(document, JsonOptions);
    }

    public static string ToJson(ProcessorSummary summary) => JsonSerializer.Serialize(ProcessorDocument(summary), JsonOptions);

    public static string ToJson(ProducerSummary produced, ProcessorSummary processed) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["producer"] = ProducerDocument(produced), ["processor"] = ProcessorDocument(processed) }, JsonOptions);

    public static string ToText(ProducerSummary s) => string.Create(
        CultureInfo.InvariantCulture,
        $"Produced {s.Produced} orders ({s.Invalid} made invalid on purpose), {s.Failed} failed{PossiblyPersistedText(s)}{(s.Unacknowledged > 0 ? $", {s.Unacknowledged} unacknowledged when stopped" : "")}, in {s.Seconds:F1} s ({s.Rate:F1}/s). Valid: {s.Valid.Count}{ValidText(s.Valid)}.");

    private static string PossiblyPersistedText(ProducerSummary s) => s.PossiblyPersisted == 0
        ? ""
        : $" ({s.PossiblyPersisted} of them after they were sent, with no answer: possibly written all the same, {s.ValidPossiblyPersisted.Count} of those valid)";

    public static string ToText(ProcessorSummary s)
    {
        var c = s.Counters;
        var lines = new List<string>
        {
            $"Processed {c.Processed} orders in {s.Elapsed.TotalSeconds:F1} s; retried {c.Retried}; waited for the registry {c.RegistryWaits} time(s).",
            $"Dead-lettered {s.DeadLetteredTotal} in this run: " + string.Join(", ", c.DeadLetteredByReason.Select(p => $"{p.Key} {p.Value}"))
                + (c.Honoured > 0 ? $"; {c.Honoured} dead-lettered before a restart recognised, not decided again" : ""),
            $"Checkpoints: {c.CheckpointsRestored} restored, {c.CheckpointsWritten} written" + (c.CheckpointFailures > 0 ? $", {c.CheckpointFailures} failed" : "") + ".",
            $"State of the {s.View.Partitions.Count} partition(s) held at the end:",
        };
        lines.AddRange(AggregateDocuments.Lines(s.View.Aggregates));
        if (s.NotCheckpointed.Count > 0)
        {
            lines.Add($"Not checkpointed at the end: partition(s) {string.Join(", ", s.NotCheckpointed)}; the next run reprocesses them from their previous checkpoint (nothing is lost or counted twice).");
        }

        return string.Join(Environment.NewLine, lines);
    }

    public static string Format(PriceStatistics stats) => AggregateDocuments.Format(stats);

    /// <summary>Per currency, most orders first: " (EUR 600, mean price 12.50, mean order value 37.20; USD ...)".</summary>
    private static string ValidText(ValidOrders valid) => valid.Count == 0 ? "" : " (" + string.Join("; ", valid.Currencies
        .OrderByDescending(c => c.Value.Count).ThenBy(c => c.Key, StringComparer.Ordinal)
        .Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Key} {c.Value.Count}, mean price {c.Value.PriceMean:F2}, mean order value {c.Value.OrderValueMean:F2}"))) + ")";

    private static Dictionary<string, object> ProducerDocument(ProducerSummary s) => new()
    {
        ["produced"] = s.Produced,
        ["failed"] = s.Failed,
        ["invalid"] = s.Invalid,
        ["sent"] = s.Sent,
        ["unacknowledged"] = s.Unacknowledged,
        // Per currency; the sums as strings keep every digit (exact decimal), so they can be compared exactly with the processor's.
        ["valid"] = ValidDocument(s.Valid),
        // Failed after they were sent, with no answer: the topic may hold them (the processor counts "valid" and at most these besides).
        ["possiblyPersisted"] = s.PossiblyPersisted,
        ["validPossiblyPersisted"] = ValidDocument(s.ValidPossiblyPersisted),
        ["seconds"] = Math.Round(s.Seconds, 3),
        ["rate"] = Math.Round(s.Rate, 3),
    };

    private static Dictionary<string, object?> ValidDocument(ValidOrders valid) => new()
    {
        ["count"] = valid.Count,
        ["currencies"] = valid.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal).ToDictionary(c => c.Key, c => new Dictionary<string, object?>
        {
            ["count"] = c.Value.Count,
            ["sum"] = c.Value.PriceSumText,
            ["mean"] = c.Value.PriceMean,
            ["orderValueSum"] = c.Value.OrderValueSumText,
            ["orderValueMean"] = c.Value.OrderValueMean,
        }),
    };

    private static Dictionary<string, object?> ProcessorDocument(ProcessorSummary s)
    {
        var c = s.Counters;
        var deadLettered = new Dictionary<string, long>(c.DeadLetteredByReason);
        deadLettered["total"] = deadLettered.Values.Sum();
        var document = new Dictionary<string, object?>
        {
            ["processed"] = c.Processed,
            ["retried"] = c.Retried,
            ["registryWaits"] = c.RegistryWaits,
            ["honoured"] = c.Honoured,
            ["deadLetterWriteFailures"] = c.DeadLetterWriteFailures,
            ["checkpoints"] = new Dictionary<string, long>
            {
                ["written"] = c.CheckpointsWritten,
                ["restored"] = c.CheckpointsRestored,
                ["failed"] = c.CheckpointFailures,
            },
            ["partitions"] = s.View.Partitions.OrderBy(p => p.Key).ToDictionary(
                p => p.Key.ToString(CultureInfo.InvariantCulture),
                p => new Dictionary<string, object?> { ["nextOffset"] = p.Value.NextOffset, ["count"] = p.Value.Count, ["held"] = p.Value.Held == FetchHold.None ? null : p.Value.Held.Describe() }),
        };

        // The state of the partitions held at the end (restored checkpoints included)...
        AggregateDocuments.AddTo(document, s.View.Aggregates);
        document["state"] = new Dictionary<string, object?>
        {
            ["deadLettered"] = document["deadLettered"],
            ["skippedByRetention"] = document["skippedByRetention"],
        };

        // ... and what this run did.
        document["deadLettered"] = deadLettered;
        document["skippedByRetention"] = c.SkippedByRetention;
        document["notCheckpointed"] = s.NotCheckpointed;
        document["seconds"] = Math.Round(s.Elapsed.TotalSeconds, 3);
        return document;
    }
}
