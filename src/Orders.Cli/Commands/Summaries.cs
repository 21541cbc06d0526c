using System.Globalization;
using System.Text.Json;
using Orders.Processor;
using Orders.Producer;

namespace Orders.Cli.Commands;

/// <summary>The end-of-run summaries, as one JSON document (<c>--json</c>) or as text.</summary>
internal static class Summaries
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    public static string ToJson(ProducerSummary summary) => JsonSerializer.Serialize(ProducerDocument(summary), JsonOptions);

    public static string ToJson(ProcessorSummary summary) => JsonSerializer.Serialize(ProcessorDocument(summary), JsonOptions);

    public static string ToJson(ProducerSummary produced, ProcessorSummary processed) =>
        JsonSerializer.Serialize(new Dictionary<string, object> { ["producer"] = ProducerDocument(produced), ["processor"] = ProcessorDocument(processed) }, JsonOptions);

    public static string ToText(ProducerSummary s) =>
        $"Produced {s.Produced} orders ({s.Invalid} made invalid on purpose), {s.Failed} failed, in {s.Seconds:F1} s ({s.Rate:F1}/s).";

    public static string ToText(ProcessorSummary s)
    {
        var lines = new List<string>
        {
            $"Processed {s.Processed} orders in {s.Elapsed.TotalSeconds:F1} s; retried {s.Retried}; waited for the registry {s.RegistryWaits} time(s).",
            $"Dead-lettered {s.DeadLetteredTotal}: " + string.Join(", ", s.DeadLettered.Select(p => $"{p.Key} {p.Value}")),
            $"Average price {Format(s.Aggregates.Overall)}; last minute {Format(s.Aggregates.LastMinute)}",
        };
        lines.AddRange(s.Aggregates.Products.Select(p => $"  {p.Key,-18} {Format(p.Value)}"));
        return string.Join(Environment.NewLine, lines);
    }

    public static string Format(PriceStatistics stats) => stats.Count == 0
        ? "n/a (no orders)"
        : string.Create(CultureInfo.InvariantCulture, $"mean {stats.Mean:F2} over {stats.Count} (min {stats.Min:F2}, max {stats.Max:F2})");

    private static Dictionary<string, object> ProducerDocument(ProducerSummary s) => new()
    {
        ["produced"] = s.Produced,
        ["failed"] = s.Failed,
        ["invalid"] = s.Invalid,
        ["seconds"] = Math.Round(s.Seconds, 3),
        ["rate"] = Math.Round(s.Rate, 3),
    };

    private static Dictionary<string, object> ProcessorDocument(ProcessorSummary s)
    {
        var deadLettered = new Dictionary<string, long>(s.DeadLettered) { ["total"] = s.DeadLetteredTotal };
        return new Dictionary<string, object>
        {
            ["processed"] = s.Processed,
            ["retried"] = s.Retried,
            ["registryWaits"] = s.RegistryWaits,
            ["deadLettered"] = deadLettered,
            ["deadLetterWriteFailures"] = s.DeadLetterWriteFailures,
            ["average"] = Stats(s.Aggregates.Overall),
            ["lastMinute"] = Stats(s.Aggregates.LastMinute),
            ["products"] = s.Aggregates.Products.ToDictionary(p => p.Key, p => Stats(p.Value)),
            ["seconds"] = Math.Round(s.Elapsed.TotalSeconds, 3),
        };
    }

    private static Dictionary<string, object?> Stats(PriceStatistics stats) => new()
    {
        ["count"] = stats.Count,
        ["sum"] = stats.Sum,
        ["mean"] = stats.Mean,
        ["min"] = stats.Count == 0 ? null : stats.Min,
        ["max"] = stats.Count == 0 ? null : stats.Max,
    };
}
