using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Observability;
using Orders.Processor.Partitions;

namespace Orders.Processor.Loop;

/// <summary>
/// The loop's work besides records, every <see cref="PumpInterval"/>: settle dead-letter and
/// checkpoint acknowledgements, restore the partitions whose retry is due, write the checkpoints
/// that are due; and, less often, publish the view for the status readers and log a status line.
/// </summary>
public sealed class Housekeeping(
    string topic,
    DeadLetterWriter deadLetters,
    CheckpointCoordinator checkpoints,
    PartitionTable table,
    PartitionRestorer restorer,
    Assignments assignments,
    FetchControl fetch,
    IdleWatch idle,
    ProcessorStatus status,
    TimeSpan statusInterval,
    TimeProvider time,
    ILogger logger)
{
    public static readonly TimeSpan PumpInterval = TimeSpan.FromMilliseconds(10);
    public static readonly TimeSpan ViewInterval = TimeSpan.FromMilliseconds(500);

    private long _started;
    private long _nextPumpAt;
    private long _lastViewAt;
    private long _lastStatusAt;

    public void Start()
    {
        _started = _nextPumpAt = _lastViewAt = _lastStatusAt = time.GetTimestamp();
    }

    /// <summary>The run so far.</summary>
    public TimeSpan Elapsed => time.GetElapsedTime(_started);

    /// <param name="now">The loop's timestamp of this turn (it reads its clock once a turn, not once per piece).</param>
    public void RunIfDue(long now)
    {
        if (now < _nextPumpAt)
        {
            return;
        }

        Pump();
        _nextPumpAt = now + (long)(PumpInterval.TotalSeconds * time.TimestampFrequency);
        if (time.GetElapsedTime(_lastViewAt) >= ViewInterval)
        {
            assignments.Publish();
            _lastViewAt = time.GetTimestamp();
        }

        if (time.GetElapsedTime(_lastStatusAt) >= statusInterval)
        {
            LogStatus();
            _lastStatusAt = time.GetTimestamp();
        }
    }

    public void Pump()
    {
        deadLetters.Pump();
        checkpoints.Pump();
        RestoreDue();
        checkpoints.CheckpointDue();
    }

    public void LogStatus()
    {
        var view = status.View;
        var counters = status.Counters;
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        var currencies = view.Aggregates.Currencies;
        var newest = view.Aggregates.NewestMinute;
        Log.StatusLine(
            logger,
            counters.Processed,
            counters.Retried,
            counters.DeadLetteredByReason.Values.Sum(),
            PerCurrency(currencies.Select(c => (c.Key, c.Value.Overall.Price.Mean))),
            PerCurrency(currencies.Select(c => (c.Key, newest is { } m && c.Value.Minutes.TryGetValue(m, out var minute) ? minute.Price.Mean : null))),
            (counters.Processed / seconds).ToString("F1", CultureInfo.InvariantCulture));
    }

    /// <summary>A mean per currency, never across them: <c>EUR 98.15 USD 97.10</c>.</summary>
    private static string PerCurrency(IEnumerable<(string Currency, double? Mean)> means)
    {
        var shown = means.Where(m => m.Mean is not null).Select(m => $"{m.Currency} {Format(m.Mean)}").ToList();
        return shown.Count == 0 ? "n/a" : string.Join(' ', shown);
    }

    private void RestoreDue()
    {
        if (table.RestoringCount == 0 && !restorer.Reading)
        {
            return;
        }

        Resume(restorer.Completed());

        // Those a read under way reads, and any while every source is in use, are left out by the restorer.
        var due = table.RestoresDue(time.GetTimestamp());
        if (due.Count > 0)
        {
            Resume(restorer.Restore([.. due.Select(p => new TopicPartition(topic, p))]));
        }
    }

    private void Resume(IReadOnlyList<TopicPartition> restored)
    {
        foreach (var partition in restored)
        {
            fetch.Release(partition, FetchHold.Restoring);

            // The partitions resumed now have not had a chance to deliver, whatever the time since the last record.
            idle.Ready();
        }
    }

    private static string Format(double? value) => value?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a";
}
