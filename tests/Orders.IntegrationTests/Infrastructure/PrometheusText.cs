using System.Globalization;
using System.Text;

namespace Orders.IntegrationTests.Infrastructure;

/// <summary>One sample line: its name, labels and value.</summary>
internal sealed record PrometheusSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var actual) && actual == value;
}

/// <summary>A metric family: the samples under one <c># TYPE</c> line.</summary>
internal sealed record PrometheusFamily(string Name, string Type, string? Help, List<PrometheusSample> Samples);

/// <summary>
/// A strict reader of the Prometheus text exposition format (version 0.0.4), enough to check what
/// a scraper would see: every sample belongs to a family declared by <c># TYPE</c>; label values
/// are unescaped; histograms have cumulative buckets ending in <c>+Inf</c> that equal their count.
/// Anything else is a <see cref="FormatException"/> naming the line.
/// </summary>
internal sealed class PrometheusText
{
    private static readonly string[] HistogramSuffixes = ["_bucket", "_sum", "_count"];

    private PrometheusText(Dictionary<string, PrometheusFamily> families) => Families = families;

    public IReadOnlyDictionary<string, PrometheusFamily> Families { get; }

    public PrometheusFamily Family(string name) =>
        Families.TryGetValue(name, out var family) ? family : throw new KeyNotFoundException($"no metric family {name}; there are: {string.Join(", ", Families.Keys.Order())}");

    /// <summary>The value of the one sample named <paramref name="name"/> with these labels (others may be present).</summary>
    public double Value(string name, params (string Label, string Value)[] labels)
    {
        var family = Families.Values.FirstOrDefault(f => f.Samples.Any(s => s.Name == name))
            ?? throw new KeyNotFoundException($"no sample named {name}");
        var matches = family.Samples.Where(s => s.Name == name && labels.All(l => s.Has(l.Label, l.Value))).ToList();
        return matches.Count == 1
            ? matches[0].Value
            : throw new InvalidOperationException($"{matches.Count} samples of {name} with {string.Join(",", labels)}");
    }

    /// <summary>The same families with only the samples carrying <paramref name="label"/>=<paramref name="value"/>.</summary>
    public PrometheusText Only(string label, string value) => new(Families.Values.ToDictionary(
        f => f.Name,
        f => f with { Samples = [.. f.Samples.Where(s => s.Has(label, value))] },
        StringComparer.Ordinal));

    public static PrometheusText Parse(string text)
    {
        var families = new Dictionary<string, PrometheusFamily>(StringComparer.Ordinal);
        var help = new Dictionary<string, string>(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var lineNumber = 0;
        foreach (var line in text.Split('\n'))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (line.StartsWith("# HELP ", StringComparison.Ordinal))
                {
                    var (name, rest) = SplitName(line[7..]);
                    help[name] = rest;
                }
                else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var (name, type) = SplitName(line[7..]);
                    if (type is not ("counter" or "gauge" or "histogram" or "summary" or "untyped"))
                    {
                        throw new FormatException($"unknown type '{type}'");
                    }

                    if (!families.TryAdd(name, new PrometheusFamily(name, type, help.GetValueOrDefault(name), [])))
                    {
                        throw new FormatException($"{name} declared twice");
                    }
                }
                else if (line.StartsWith('#'))
                {
                    // A comment.
                }
                else
                {
                    var sample = ParseSample(line);
                    var family = FamilyOf(sample.Name, families) ?? throw new FormatException($"sample {sample.Name} has no # TYPE before it");
                    var identity = sample.Name + "{" + string.Join(",", sample.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "}";
                    if (!seen.Add(identity))
                    {
                        throw new FormatException($"duplicate series {identity}");
                    }

                    family.Samples.Add(sample);
                }
            }
            catch (FormatException e)
            {
                throw new FormatException($"line {lineNumber}: {e.Message}: {line}", e);
            }
        }

        foreach (var histogram in families.Values.Where(f => f.Type == "histogram"))
        {
            CheckHistogram(histogram);
        }

        return new PrometheusText(families);
    }

    private static PrometheusFamily? FamilyOf(string sampleName, Dictionary<string, PrometheusFamily> families)
    {
        if (families.TryGetValue(sampleName, out var family) && family.Type != "histogram")
        {
            return family;
        }

        foreach (var suffix in HistogramSuffixes)
        {
            if (sampleName.EndsWith(suffix, StringComparison.Ordinal)
                && families.TryGetValue(sampleName[..^suffix.Length], out var histogram) && histogram.Type == "histogram")
            {
                return histogram;
            }
        }

        return null;
    }

    private static void CheckHistogram(PrometheusFamily histogram)
    {
        var series = histogram.Samples
            .GroupBy(s => string.Join(",", s.Labels.Where(l => l.Key != "le").OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")));
        foreach (var one in series)
        {
            var buckets = one.Where(s => s.Name == histogram.Name + "_bucket").ToList();
            var count = one.Single(s => s.Name == histogram.Name + "_count").Value;
            if (buckets.Count == 0 || buckets[^1].Labels["le"] != "+Inf" || buckets[^1].Value != count)
            {
                throw new FormatException($"histogram {histogram.Name}{{{one.Key}}}: its +Inf bucket is not its count {count}");
            }

            for (var i = 1; i < buckets.Count; i++)
            {
                if (buckets[i].Value < buckets[i - 1].Value || ParseValue(buckets[i].Labels["le"]) <= ParseValue(buckets[i - 1].Labels["le"]))
                {
                    throw new FormatException($"histogram {histogram.Name}{{{one.Key}}}: buckets are not cumulative at le={buckets[i].Labels["le"]}");
                }
            }
        }
    }

    private static (string Name, string Remainder) SplitName(string text)
    {
        var space = text.IndexOf(' ', StringComparison.Ordinal);
        var name = space < 0 ? text : text[..space];
        CheckName(name);
        return (name, space < 0 ? "" : text[(space + 1)..]);
    }

    private static PrometheusSample ParseSample(string line)
    {
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        CheckName(name);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var equals = line.IndexOf('=', i);
                var label = line[i..equals];
                CheckName(label);
                if (line[equals + 1] != '"')
                {
                    throw new FormatException($"label {label} has no quoted value");
                }

                var value = new StringBuilder();
                i = equals + 2;
                for (; line[i] != '"'; i++)
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] switch
                        {
                            'n' => '\n',
                            '\\' => '\\',
                            '"' => '"',
                            _ => throw new FormatException($"bad escape \\{line[i]}"),
                        });
                    }
                    else
                    {
                        value.Append(line[i]);
                    }
                }

                if (!labels.TryAdd(label, value.ToString()))
                {
                    throw new FormatException($"label {label} twice");
                }

                i++;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++;
        }

        var fields = line[i..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is < 1 or > 2)
        {
            throw new FormatException("expected a value and at most a timestamp");
        }

        return new PrometheusSample(name, labels, ParseValue(fields[0]));
    }

    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static void CheckName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]) || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':'))
        {
            throw new FormatException($"'{name}' is not a valid metric or label name");
        }
    }
}
