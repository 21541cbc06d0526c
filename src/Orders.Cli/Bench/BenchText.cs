using System.Globalization;
using Orders.Bench;

namespace Orders.Cli.Bench;

/// <summary>The bench's reports as text: one table per measure, then the verdicts.</summary>
internal static class BenchText
{
    public static string Pipeline(BenchReport report, BenchOptions options)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"Medians of {options.Repeats} runs of each side, alternating; values of {report.ValueBytes} bytes, {report.Partitions} partitions."),
        };
        foreach (var measure in new[] { report.Drain, report.Produce, report.Latency })
        {
            lines.Add("");
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{measure.Measure} ({measure.Description}; {measure.Orders:N0} orders)"));
            lines.Add("| side                 | role      | orders/s     | CPU µs/ord | alloc B/ord | p50 ms   | p99 ms   |");
            lines.Add("|----------------------|-----------|--------------|------------|-------------|----------|----------|");
            lines.AddRange(measure.Sides.Select(Row));
            lines.Add(Verdict(measure));
        }

        var r = report.Ratios;
        lines.Add("");
        lines.Add(string.Create(CultureInfo.InvariantCulture,
            $"Pipeline, produce then drain: {Share(r.Throughput)} of the raw client; drain {Share(r.Drain)}, produce {Share(r.Produce)}; to kcat: drain {Share(r.DrainToKcat)}, produce {Share(r.ProduceToKcat)}."));
        if (r.DrainCpuFloor is not null)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Drain CPU per order, paired per repeat: the work's floor (raw-decode-aggregate) {Num(r.DrainCpuFloor, "F2")}x the raw consumer's; the processor {Num(r.DrainCpuOverFloor, "F2")}x the floor's."));
        }

        if (r.DrainTraced is not null || r.ProduceTraced is not null)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"Tracing on ({options.TracingSampler}) over off, paired per repeat: drain {Share(r.DrainTraced)}, produce {Share(r.ProduceTraced)}; " +
                $"the raw producer with a traceparent header on every message over without: {Share(r.ProduceRawTraceparent)}."));
        }

        lines.AddRange(report.BenchErrors);
        return string.Join(Environment.NewLine, lines);

        static string Row(SideResult s) => string.Create(
            CultureInfo.InvariantCulture,
            $"| {s.Side,-20} | {s.Role,-9} | {s.Throughput,12:N0} | {Num(s.CpuMicrosPerOrder, "F2"),10} | {Num(s.AllocatedBytesPerOrder, "N0"),11} | {Num(s.LatencyMs?.P50, "F2"),8} | {Num(s.LatencyMs?.P99, "F2"),8} |");
        static string Num(double? value, string format) => value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";
        static string Share(double? ratio) => ratio?.ToString("P1", CultureInfo.InvariantCulture) ?? "n/a";
        static string Verdict(MeasureReport m)
        {
            var c = m.Comparison;
            if (c.BenchError)
            {
                return c.BenchErrorMessage!;
            }

            var extra = m.P99DifferenceMs is { } d ? string.Create(CultureInfo.InvariantCulture, $", p99 {d:+0.00;-0.00} ms") : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{c.Pipeline} / {c.Ceiling} (the ceiling): {Share(c.Ratio)}, CPU {Num(c.CpuRatio, "F2")}x, allocated {Num(c.AllocatedRatio, "F2")}x{extra}.");
        }
    }

    public static string Handler(HandlerReport report)
    {
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture,
                $"Handler mode: {report.Orders:N0} orders drained, handler latency {report.Latency}, fail ratio {report.FailRatio}, {report.MaxInFlight} in flight, ordering by {report.Ordering}; " +
                $"medians of {report.Repeats} runs of each side, alternating, {report.Partitions} partitions."),
            string.Create(CultureInfo.InvariantCulture, $"Theory (the ceiling): {report.MaxInFlight} in flight / the mean latency = {report.Theory:N0} orders/s."),
            "",
            "| side                 | orders/s     | of theory | CPU µs/ord |",
            "|----------------------|--------------|-----------|------------|",
        };
        lines.AddRange(report.Sides.Select(s => string.Create(
            CultureInfo.InvariantCulture,
            $"| {s.Side,-20} | {s.Throughput,12:N0} | {s.Throughput / report.Theory,9:P1} | {s.CpuMicrosPerOrder?.ToString("F2", CultureInfo.InvariantCulture) ?? "-",10} |")));
        lines.Add("");
        var r = report.Ratios;
        lines.Add(string.Create(CultureInfo.InvariantCulture, $"Of theory: keyed {Share(r.KeyedToTheory)}, key-less {Share(r.KeylessToTheory)}."));
        if (report.FailRatio > 0)
        {
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"With failures over without, paired per repeat: keyed {Share(r.KeyedFailingToClean)}, key-less {Share(r.KeylessFailingToClean)}; {report.DeadLettered} dead-lettered over every run (retries exhausted)."));
        }

        lines.AddRange(report.BenchErrors);
        return string.Join(Environment.NewLine, lines);

        static string Share(double? ratio) => ratio?.ToString("P1", CultureInfo.InvariantCulture) ?? "n/a";
    }
}
