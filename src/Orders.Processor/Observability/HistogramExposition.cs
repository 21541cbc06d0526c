using System.Globalization;
using System.Text;

namespace Orders.Processor.Observability;

/// <summary>One series of a histogram family: its labels (Prometheus names, values unescaped) and what it holds.</summary>
public sealed record HistogramSeries(IReadOnlyList<KeyValuePair<string, string>> Labels, HistogramSnapshot Snapshot);

/// <summary>
/// Writes histogram families in the Prometheus text format (0.0.4) or in OpenMetrics 1.0, the two a
/// scrape negotiates: <c># TYPE</c> and <c># HELP</c> (and <c># UNIT</c> in OpenMetrics), then per
/// series the cumulative <c>_bucket</c> lines up to <c>le="+Inf"</c>, <c>_sum</c> and <c>_count</c>.
/// Numbers are written as OpenTelemetry's exporter writes them (<c>1e-05</c>, <c>1.0</c>), which
/// both formats read.
/// </summary>
public static class HistogramExposition
{
    /// <param name="name">The family's name with its unit's suffix (<c>_seconds</c>).</param>
    /// <param name="unit">The unit, for OpenMetrics' <c># UNIT</c> line.</param>
    public static void Write(StringBuilder text, bool openMetrics, string name, string unit, string help, IEnumerable<HistogramSeries> series)
    {
        text.Append("# TYPE ").Append(name).Append(" histogram\n");
        if (openMetrics)
        {
            text.Append("# UNIT ").Append(name).Append(' ').Append(unit).Append('\n');
        }

        text.Append("# HELP ").Append(name).Append(' ').Append(EscapeHelp(help, openMetrics)).Append('\n');
        foreach (var (labels, snapshot) in series)
        {
            var labelText = new StringBuilder();
            foreach (var (key, value) in labels)
            {
                labelText.Append(key).Append("=\"").Append(EscapeLabelValue(value)).Append("\",");
            }

            var cumulative = 0L;
            for (var i = 0; i <= snapshot.Bounds.Count; i++)
            {
                cumulative += snapshot.Buckets[i];
                var bound = i < snapshot.Bounds.Count ? Number(snapshot.Bounds[i]) : "+Inf";
                text.Append(name).Append("_bucket{").Append(labelText).Append("le=\"").Append(bound).Append("\"} ")
                    .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }

            var plain = labelText.Length > 0 ? $"{{{labelText.ToString(0, labelText.Length - 1)}}}" : string.Empty;
            text.Append(name).Append("_sum").Append(plain).Append(' ').Append(Number(snapshot.Sum)).Append('\n');
            text.Append(name).Append("_count").Append(plain).Append(' ').Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
        }
    }

    /// <summary>A float as both formats read it: a whole number with <c>.0</c>, else the shortest round-trip form in lower case.</summary>
    internal static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        double.NaN => "NaN",
        _ when value == Math.Floor(value) && Math.Abs(value) < 1e15 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("R", CultureInfo.InvariantCulture).ToLowerInvariant(),
    };

    internal static string EscapeLabelValue(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    // OpenMetrics escapes quotes in HELP too; the text format does not.
    private static string EscapeHelp(string help, bool openMetrics)
    {
        var escaped = help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return openMetrics ? escaped.Replace("\"", "\\\"", StringComparison.Ordinal) : escaped;
    }
}
