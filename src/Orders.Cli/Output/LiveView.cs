using System.Globalization;
using Microsoft.Extensions.Logging;
using Orders.Processor.Aggregates;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Orders.Cli.Output;

/// <summary>
/// The processor's terminal view, shared by <c>orders demo</c> and <c>orders consume --live</c>:
/// totals, per-product averages, partitions with their lag, the newest dead letters. It reads the
/// processor's own counters and view, like the summary, /metrics and the dashboard.
/// </summary>
internal sealed class LiveView(ProcessorStatus processor, string title, TimeProvider time)
{
    private const int DeadLettersShown = 3;

    private readonly RecentRate _rate = new(time, TimeSpan.FromSeconds(5));

    /// <summary>The dashboard's address, shown under the view when there is one.</summary>
    public Uri? Dashboard { get; init; }

    /// <summary>Rows above the processor's own (the demo's producer).</summary>
    public Func<IEnumerable<(string Label, string Value)>>? Rows { get; init; }

    /// <summary>Redraws about twice a second until <paramref name="finished"/> completes; the last frame stays.</summary>
    public async Task RunAsync(Task finished)
    {
        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            while (!finished.IsCompleted)
            {
                await Task.WhenAny(finished, Task.Delay(TimeSpan.FromMilliseconds(500), time));
                context.UpdateTarget(Render());
            }
        });
    }

    public IRenderable Render()
    {
        var view = processor.View;
        var counters = view.Counters;
        var snapshot = view.Aggregates;

        var totals = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(title)}[/]").AddColumn("").AddColumn(new TableColumn("").RightAligned()).HideHeaders();
        foreach (var (label, value) in Rows?.Invoke() ?? [])
        {
            totals.AddRow(Markup.Escape(label), Markup.Escape(value));
        }

        totals.AddRow("status", Status(view));
        totals.AddRow("processed", Count(counters.Processed));
        totals.AddRow("orders/s (last 5 s)", _rate.Sample(counters.Processed)?.ToString("F1", CultureInfo.InvariantCulture) ?? "-");
        totals.AddRow("orders counted", Count(snapshot.Count));
        totals.AddRow("retries", Count(counters.Retried));
        totals.AddRow("handler: in flight / waiting for key / for retry", $"{Count(view.Load.InFlight)} / {Count(view.Load.WaitingForKey)} / {Count(view.Load.WaitingForBackoff)}");
        if (counters.RegistryWaits > 0)
        {
            totals.AddRow("waits for the registry", Count(counters.RegistryWaits));
        }

        foreach (var (reason, count) in counters.DeadLetteredByReason)
        {
            totals.AddRow($"dead letters: {reason}", Count(count));
        }

        if (counters.SkippedByRetention > 0)
        {
            totals.AddRow("[red]skipped by retention[/]", Count(counters.SkippedByRetention));
        }

        // Every amount per currency: a mean over prices of different currencies means nothing.
        var currencies = new Table().Border(TableBorder.Rounded).Title("per currency")
            .AddColumn("currency").AddColumn(new TableColumn("orders").RightAligned()).AddColumn(new TableColumn("mean price").RightAligned())
            .AddColumn(new TableColumn("newest minute").RightAligned()).AddColumn(new TableColumn("mean order value").RightAligned());
        foreach (var (currency, data) in snapshot.Currencies.OrderByDescending(c => c.Value.Overall.Count))
        {
            var newest = data.NewestMinute is { } minute ? data.Minutes[minute].Price.Mean : null;
            currencies.AddRow(Markup.Escape(currency), Count(data.Overall.Count), Money(data.Overall.Price.Mean), Money(newest), Money(data.Overall.Value.Mean));
        }

        if (snapshot.Unsplit is { } unsplit)
        {
            currencies.AddRow($"[grey]{Markup.Escape(AggregateData.UnsplitName)}[/]", Count(unsplit.Overall.Count), Money(unsplit.Overall.Price.Mean), "-", "-");
        }

        var products = new Table().Border(TableBorder.Rounded).Title("per product")
            .AddColumn("product").AddColumn("currency").AddColumn(new TableColumn("orders").RightAligned()).AddColumn(new TableColumn("mean").RightAligned())
            .AddColumn(new TableColumn("min").RightAligned()).AddColumn(new TableColumn("max").RightAligned());
        foreach (var (currency, data) in snapshot.Currencies.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            foreach (var (product, stats) in data.Products.OrderBy(p => p.Key, StringComparer.Ordinal))
            {
                products.AddRow(Markup.Escape(product), Markup.Escape(currency), Count(stats.Count), Money(stats.Price.Mean), Money(stats.Price.Min), Money(stats.Price.Max));
            }
        }

        var partitions = new Table().Border(TableBorder.Rounded).Title("partitions")
            .AddColumn("partition").AddColumn(new TableColumn("next offset").RightAligned()).AddColumn(new TableColumn("checkpointed").RightAligned())
            .AddColumn(new TableColumn("orders").RightAligned()).AddColumn(new TableColumn("lag").RightAligned()).AddColumn("fetch");
        foreach (var (partition, state) in view.Partitions.OrderBy(p => p.Key))
        {
            var lag = processor.Statistics.LagOf(partition, state.NextOffset);
            partitions.AddRow(
                partition.ToString(CultureInfo.InvariantCulture), Count(state.NextOffset), Count(state.CheckpointedOffset), Count(state.Count),
                lag is { } l ? Count(l) : "-",
                state.Held == FetchHold.None ? "fetching" : $"[yellow]held: {Markup.Escape(state.Held.Describe())}[/]");
        }

        var parts = new List<IRenderable> { totals, currencies, products, partitions };
        var letters = processor.RecentDeadLetters.Snapshot();
        if (letters.Count > 0)
        {
            var lines = letters.Take(DeadLettersShown).Select(d =>
                $"[red]{Markup.Escape(d.Reason)}[/] {Markup.Escape($"{d.Topic}[{d.Partition}]@{d.Offset}")} [grey]{Markup.Escape($"{d.ErrorType}: {d.Error}")}[/]");
            parts.Add(new Panel(new Markup(string.Join(Environment.NewLine, lines))).Header("newest dead letters").Border(BoxBorder.Rounded));
        }

        if (Dashboard is { } dashboard)
        {
            parts.Add(new Markup($"[grey]dashboard[/] {Markup.Escape(dashboard.ToString())}  [grey]metrics[/] {Markup.Escape(new Uri(dashboard, "metrics").ToString())}"));
        }

        return new Rows(parts);
    }

    private static string Status(ProcessorView view) => view.Phase switch
    {
        ProcessorPhase.Stopping => "[yellow]stopping[/]",
        ProcessorPhase.Restoring => $"[yellow]restoring {view.Restoring} partition(s)[/]",
        ProcessorPhase.Processing => $"[green]processing {view.Partitions.Count} partition(s)[/]",
        ProcessorPhase.NoPartitions => "[yellow]no partitions assigned[/]",
        _ => "[yellow]waiting for partitions[/]",
    };

    private static string Count(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Money(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static string Money(double? value) => value?.ToString("F2", CultureInfo.InvariantCulture) ?? "-";

    private static string Money(decimal value) => value.ToString("0.00#######", CultureInfo.InvariantCulture);
}
