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
/// checkpoint acknowledgements, apply the pause and resume flags a rebalance left, restore the
/// partitions whose retry is due, write the checkpoints that are due; and, less often, publish the
/// view for the status readers and log a status line.
/// </summary>
public sealed class Housekeeping(
    string topic,
    DeadLetterWriter deadLetters,
    CheckpointCoordinator checkpoints,
    PartitionTable table,
    PartitionRestorer restorer,
    Assignments assignments,
    IConsumerPort consumer,
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

    public void RunIfDue()
    {
        var now = time.GetTimestamp();
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
        var (pause, resume) = table.TakeFlags();
        if (pause.Count > 0)
        {
            consumer.Pause(pause);
        }

        if (resume.Count > 0)
        {
            consumer.Resume(resume);
        }

        RestoreDue();
        checkpoints.CheckpointDue();
    }

    public void LogStatus()
    {
        var view = status.View;
        var counters = status.Counters;
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        var latest = view.Aggregates.NewestMinute is { } minute ? view.Aggregates.Minutes[minute].Mean : null;
        Log.StatusLine(
            logger,
            counters.Processed,
            counters.Retried,
            counters.DeadLetteredByReason.Values.Sum(),
            Format(view.Aggregates.Overall.Mean),
            Format(latest),
            (counters.Processed / seconds).ToString("F1", CultureInfo.InvariantCulture));
    }

    private void RestoreDue()
    {
        if (table.RestoringCount == 0)
        {
            return;
        }

        var due = table.RestoresDue(time.GetUtcNow());
        if (due.Count == 0)
        {
            return;
        }

        foreach (var partition in restorer.Restore([.. due.Select(p => new TopicPartition(topic, p))]))
        {
            table.TryGet(partition.Partition.Value, out var state);
            table.Resumed(partition);
            consumer.Seek(new TopicPartitionOffset(partition, state.NextOffset));
            consumer.Resume([partition]);

            // A restore blocks the loop while it reads (9 s measured, a broker just back): the
            // partitions resumed now have not had a chance to deliver, whatever the time since the last record.
            idle.Ready();
        }
    }

    private static string Format(double? value) => value?.ToString("F2", CultureInfo.InvariantCulture) ?? "n/a";
}
