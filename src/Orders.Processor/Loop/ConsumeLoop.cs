using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Hosting;
using Orders.Processor.Observability;

namespace Orders.Processor.Loop;

/// <summary>
/// The consume loop: housekeeping, poll, gate, process, until stopped, idle or a fatal error; then
/// a bounded close (checkpoint everything held, leave the group). Everything it calls runs on its
/// thread, the rebalance callbacks included (they run inside the poll; <see cref="FetchAheadConsumer"/>
/// brings them here from its polling thread). Built by <see cref="LoopParts.Create"/>.
/// </summary>
public sealed class ConsumeLoop(LoopParts parts)
{
    /// <summary>
    /// The most records in hand in a row that share one clock reading (the turn's housekeeping, a
    /// record's arrival and progress) and one run of the pumps: a drain reads the clock once for them
    /// instead of once each (5% of the loop's thread), pumps once for them (4%) and runs what was posted
    /// to the loop's thread once for them, and the time they use, like what the pumps settle and what
    /// was posted, is at most that many records old.
    /// </summary>
    internal const int SameTimeRecords = 16;

    private readonly ProcessorOptions _options = parts.Options;
    private readonly IConsumerPort _consumer = parts.Consumer;
    private readonly FetchAheadConsumer? _fetchAhead = parts.Consumer as FetchAheadConsumer;
    private readonly FatalSignal _fatal = parts.Fatal;
    private readonly ILogger _logger = parts.Logger;

    /// <summary>Runs until cancelled (or idle for <see cref="ProcessorOptions.UntilIdle"/>); then checkpoints, commits and closes.</summary>
    /// <exception cref="Exception">The first fatal error (<see cref="FatalSignal"/>): a layout that cannot work, a fatal client
    /// error, a dead letter or checkpoint that can never be written, credentials rejected, or <see cref="ProcessorGaveUpException"/>.</exception>
    public async Task<ProcessorSummary> RunAsync(CancellationToken cancellationToken)
    {
        parts.Housekeeping.Start();
        parts.Checkpoints.Prepare();
        _consumer.Subscribe(_options.Topic, parts.Assignments);
        Log.Subscribed(_logger, _options.Topic, _options.GroupId);
        Exception? failure;
        IReadOnlyList<int> notCheckpointed;
        try
        {
            // At most one clock read a turn, right after the poll: at ~1 µs a record, three (housekeeping,
            // the record's arrival, its outcome) made a few percent of the loop. It also starts the record's
            // processing time, when that is measured.
            var now = parts.Time.GetTimestamp();
            var sameTime = 0;
            while (!cancellationToken.IsCancellationRequested && !_fatal.IsSet)
            {
                if (sameTime == 0)
                {
                    // What was posted to the loop's thread runs with the pumps: after every poll that may
                    // have waited, and once per SameTimeRecords records in hand.
                    LoopThread.RunPosted();
                }

                parts.Housekeeping.RunIfDue(now);
                ConsumeResult<byte[]?, byte[]?>? record;
                try
                {
                    // The pumps (what ended, what is due, how long the poll may wait) run when the clock was
                    // read: while records come in hand, once per SameTimeRecords. Between, the poll takes
                    // what is in hand without waiting; when nothing is, the next turn pumps and waits.
                    record = _consumer.Consume(sameTime == 0 ? PollWait(now) : TimeSpan.Zero);
                }
                catch (ConsumeException e)
                {
                    now = parts.Time.GetTimestamp();
                    sameTime = 0;
                    OnConsumeError(e);
                    continue;
                }

                // A record the fetch-ahead consumer had in hand came without a wait: it keeps the time
                // read after the last poll that may have waited, for at most SameTimeRecords records,
                // unless its processing time is measured from its arrival.
                if (record is null || _fetchAhead?.TookInHand != true || ++sameTime >= SameTimeRecords || parts.Records.TimesArrivals)
                {
                    now = parts.Time.GetTimestamp();
                    sameTime = 0;
                }

                if (record is null || record.IsPartitionEOF)
                {
                    if (StopsWhenIdle())
                    {
                        break;
                    }

                    continue;
                }

                parts.Idle.RecordArrived(now);
                if (parts.Gate.Admit(record) is not { } state || await parts.Records.ProcessAsync(record, state, now, cancellationToken))
                {
                    parts.Idle.Progressed(now);
                }
            }
        }
        finally
        {
            failure = _fatal.Error;
            if (failure is null && cancellationToken.IsCancellationRequested)
            {
                // A stop from outside (SIGINT, SIGTERM, the host): said before the close, which can take a while.
                Log.Stopping(_logger, parts.Table.OwnedCount);
            }

            notCheckpointed = Close();
        }

        if (failure is not null)
        {
            throw failure;
        }

        parts.Housekeeping.LogStatus();
        return new ProcessorSummary(parts.Status.View, parts.Housekeeping.Elapsed, notCheckpointed);
    }

    /// <summary>How long the poll may block: until the next retry is due (resuming those that are), or the run could be idle; at most 100 ms.</summary>
    /// <param name="now">The loop's timestamp of this turn.</param>
    private TimeSpan PollWait(long now)
    {
        var wait = parts.Records.Pump(parts.Fetch.Pump());
        if (parts.DeadLetters.Pump() is { } retryIn && retryIn < wait)
        {
            wait = retryIn;
        }

        if (parts.Idle.UntilIdle(now, parts.Table.OwnedCount > 0) is { } idleIn && idleIn < wait)
        {
            wait = idleIn;
        }

        return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    private void OnConsumeError(ConsumeException e)
    {
        if (e.Error.IsFatal)
        {
            _fatal.Set(new KafkaException(e.Error));
            return;
        }

        // Topic not there yet, max.poll.interval.ms exceeded (the client rejoins), a broker away: the loop goes on.
        Log.ConsumeError(_logger, e.Error.Code, e.Error.Reason);
    }

    /// <returns>Whether <c>--until-idle</c> ends the run now (having set the fatal signal if it ends without doing its job).</returns>
    private bool StopsWhenIdle()
    {
        var table = parts.Table;
        // Nothing held from fetching or waiting to be read again, no handler work, nothing unacknowledged.
        var quiet = !parts.Fetch.Busy && parts.Records.Dispatcher.Idle && parts.Checkpoints.InFlightCount == 0 && table.Owned.All(s => s.PendingDeadLetters == 0);
        var restoresFailing = table.RestoringCount > 0 && !parts.Restorer.Reading;
        switch (parts.Idle.Check(new LoopActivity(quiet, table.OwnedCount > 0, table.EverAssigned, parts.Fetch.AllWaitForRegistry, restoresFailing)))
        {
            case IdleVerdict.Idle:
                Log.Idle(_logger, _options.UntilIdle!.Value.TotalSeconds);
                return true;
            case IdleVerdict.NeverAssigned:
                _fatal.Set(new ProcessorGaveUpException(
                    $"no partition of {_options.Topic} was assigned to group {_options.GroupId} within {parts.Idle.PatienceLimit.TotalSeconds:0} s " +
                    "(more processors than partitions, the group coordinator unreachable, or a group protocol the broker does not serve: " +
                    "group.protocol=consumer needs Kafka 4.0 or later with group.version finalised)"));
                return true;
            case IdleVerdict.RegistryUnreachable:
                _fatal.Set(new ProcessorGaveUpException(
                    $"the Schema Registry could not be reached for {parts.Idle.SinceLastProgress.TotalSeconds:0} s ({parts.Status.Counters.RegistryWaits} attempts); " +
                    "--until-idle gives up. The records wait in Kafka: nothing was lost, and the next run resumes from the checkpoints"));
                return true;
            case IdleVerdict.RestoresFailing:
                _fatal.Set(new ProcessorGaveUpException(
                    $"{string.Join(", ", table.RestoringPartitions.Order().Select(p => $"{_options.Topic}[{p}]"))} could not be restored for " +
                    $"{parts.Idle.SinceLastProgress.TotalSeconds:0} s ({table.LastRestoreFailure}); --until-idle gives up, having processed the rest. " +
                    "Their records and checkpoints wait in Kafka: nothing was lost, and the next run restores them"));
                return true;
            default:
                return false;
        }
    }

    /// <returns>The partitions held at the end whose final checkpoint could not be written.</returns>
    private List<int> Close()
    {
        // A restore still reading is not wanted any more: it gives up, and the partitions it read for are left unrestored.
        parts.Restorer.Cancel();
        // The summary shows the state held at the end, before the group takes it back.
        parts.Assignments.Closing();
        parts.Assignments.Publish();
        var states = parts.Table.Owned.ToList();
        // The close below commits the stored offsets as it gives the partitions up.
        parts.Assignments.SettleAndCheckpoint(states);

        // What is still on its way (dead letters, checkpoints: their broker is slower than the revoke's timeout) gets
        // its last wait while the partitions are still held: a letter written after their next owner has read the
        // dead-letter topic back is one it does not honour, and its record is decided again.
        var unsent = parts.Producer.Flush(ProcessorOptions.FinalFlush);
        if (unsent > 0)
        {
            Log.UnsentAtClose(_logger, unsent, ProcessorOptions.FinalFlush.TotalSeconds);
        }

        // What that wait brought: letters are counted (nothing is sent again now: nothing would wait for it), and
        // checkpoints acknowledged store their offsets, which the close commits as it gives the partitions up.
        parts.DeadLetters.SettleAtClose();
        parts.Checkpoints.Pump();
        List<int> notCheckpointed = [.. states.Where(s => s.Dirty).Select(s => s.Partition.Partition.Value).Order()];

        // Leaves the group; the revoke handler finds the state checkpointed already.
        CloseConsumer(notCheckpointed.Count);
        parts.Assignments.Detach();
        parts.Records.Dispose();
        parts.Restorer.Dispose();
        return notCheckpointed;
    }

    /// <summary>
    /// Leaves the group within <see cref="ProcessorOptions.CloseTimeout"/>. librdkafka's close can wait
    /// on a group that is rebalancing or whose coordinator is away (30 s measured); past the bound the
    /// run ends without it, and the group reassigns after its session timeout, as after a crash: from
    /// the partitions' checkpoints, which were written just before unless their broker was away too.
    /// </summary>
    /// <param name="notCheckpointed">How many partitions held at the end have no checkpoint of their last state.</param>
    private void CloseConsumer(int notCheckpointed)
    {
        var closing = BlockingCall.RunAsync(() =>
        {
            try
            {
                _consumer.Close();
            }
            catch (KafkaException e)
            {
                Log.CloseFailed(_logger, e.Error.Reason);
            }
        });
        if (closing.Wait(_options.CloseTimeout))
        {
            return;
        }

        // From now on its callbacks do nothing; the consumer is left to the process's end (the session does not destroy it).
        parts.Assignments.Detach();
        if (notCheckpointed == 0)
        {
            Log.CloseTimedOut(_logger, _options.CloseTimeout.TotalSeconds);
        }
        else
        {
            Log.CloseTimedOutNotCheckpointed(_logger, _options.CloseTimeout.TotalSeconds, notCheckpointed);
        }
    }
}
