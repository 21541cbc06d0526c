using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Processor.Checkpoints;
using Orders.Processor.DeadLetters;
using Orders.Processor.Failures;
using Orders.Processor.Hosting;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// The rebalance listener. Assigned: restore each partition's state and start it right after its
/// checkpoint (or paused, to be restored later). Revoked: checkpoint, store the covered offsets,
/// release. Lost: release without writing anything (another member may own them already).
/// Runs inside the consumer's poll, on the loop's thread.
/// </summary>
public sealed class Assignments(
    TopicLayout layout,
    PartitionTable table,
    PartitionRestorer restorer,
    CheckpointCoordinator checkpoints,
    FetchControl fetch,
    Records.RecordProcessor records,
    DeadLetterWriter deadLetters,
    IdleWatch idle,
    ProcessorStatus status,
    int windowMinutes,
    TimeSpan revokeTimeout,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger) : IRebalanceListener
{
    // Held by a callback while it runs, and by Detach. The callbacks run on the loop's
    // thread, except those of a close, which runs on a thread of its own while the loop waits for it;
    // once the loop stops waiting (the close timed out) it detaches, through this lock, before it
    // goes on: a callback in progress then ends first, and none after does anything, so the two never
    // touch the loop's state (dead letters, records, the table) at once.
    private readonly Lock _callbacks = new();
    private bool _closing;
    private bool _detached;

    /// <summary>The processor is closing: the view keeps showing the state held at the end.</summary>
    public void Closing() => _closing = true;

    /// <summary>
    /// From now on the callbacks do nothing (the run ended, or its consumer's close was abandoned); waits
    /// for a revoke or lost callback in progress on the close's thread, which is brief at a close: it only
    /// releases the partitions, whose state was checkpointed before.
    /// </summary>
    public void Detach()
    {
        lock (_callbacks)
        {
            _detached = true;
        }
    }

    public IEnumerable<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions)
    {
        // Under the lock the other callbacks take: a consumer polled on the loop's thread runs a close's callbacks
        // on the close's thread, and the loop's parts (the table, the restorer) may be gone by then.
        lock (_callbacks)
        {
            if (_closing || _detached)
            {
                // The processor is leaving: nothing is restored or fetched, and the close gives them back.
                Log.AssignedWhileClosing(logger, Describe(partitions));
                return [.. partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset))];
            }

            fetch.EnterCallback();
            try
            {
                return Assign(partitions);
            }
            finally
            {
                fetch.LeaveCallback();
            }
        }
    }

    public void OnRevoked(IReadOnlyList<TopicPartition> partitions) => GivingUp(() =>
    {
        Log.Revoked(logger, Describe(partitions));
        var states = Owned(partitions);
        if (!_closing)
        {
            // On close the states were settled and checkpointed just before; the consumer's close revokes them after.
            SettleAndCheckpoint(states);
        }

        Release(partitions);
    });

    // Another member may own them already: writing a checkpoint now would race its state. Drop.
    public void OnLost(IReadOnlyList<TopicPartition> partitions) => GivingUp(() =>
    {
        Log.Lost(logger, Describe(partitions));
        Release(partitions);
    });

    /// <summary>A revoke or lost callback: under the lock <see cref="Detach"/> takes, nothing once detached, inside the fetch's callback bracket.</summary>
    private void GivingUp(Action callback)
    {
        lock (_callbacks)
        {
            if (_detached)
            {
                return;
            }

            fetch.EnterCallback();
            try
            {
                callback();
            }
            finally
            {
                fetch.LeaveCallback();
            }
        }
    }

    private List<TopicPartitionOffset> Assign(IReadOnlyList<TopicPartition> partitions)
    {
        Log.Assigned(logger, Describe(partitions));
        var mine = partitions.Where(p => p.Topic == layout.Topic).ToList();
        if (mine.Count > 0)
        {
            table.Assigned();
        }

        foreach (var partition in mine.Where(p => p.Partition.Value >= layout.StatsPartitions))
        {
            fatal.Set(new TopicLayoutException(
                $"{partition.Topic} now has partition {partition.Partition.Value}, but {layout.StatsTopic} has only {layout.StatsPartitions}: " +
                $"add partitions to {layout.StatsTopic} so that they match, then restart"));
        }

        foreach (var partition in mine)
        {
            table.Restoring(partition.Partition.Value, long.MinValue);
        }

        // Readiness says so while the restore reads: with incremental assignments the last view showed
        // only the partitions held before, all restored.
        if (mine.Count > 0)
        {
            Publish();
        }

        restorer.Restore(mine);
        if (mine.Count > 0)
        {
            // An assignment can be empty (a member with nothing to take); idle time counts from a real
            // one, once the loop stops waiting for its restore (up to a second; a checkpoints'
            // broker slow to answer, say): the partitions have had no chance to deliver meanwhile.
            idle.Ready();
        }

        var offsets = new List<TopicPartitionOffset>(partitions.Count);
        foreach (var partition in partitions)
        {
            if (table.TryGet(partition.Partition.Value, out var state))
            {
                offsets.Add(new TopicPartitionOffset(partition, state.NextOffset));
                fetch.Assigned(partition, restored: true);
            }
            else
            {
                // Restored later by the loop (a read that goes on, or a retry); until then nothing is fetched, and
                // the restore then seeks. At a logical offset, not at none: a partition assigned without an offset
                // starts only once the group's coordinator has given its committed offset (never, after that query
                // failed), and until it starts librdkafka refuses the seek ("Local: Erroneous state"), which ended
                // the run. The processor's positions are its checkpoints'. (A seek can still come before the start,
                // which librdkafka defers while a commit is outstanding: the consumer port makes it later,
                // DeferredSeeks; and the beginning's offset query can move the partition back: RecordGate.)
                offsets.Add(new TopicPartitionOffset(partition, Offset.Beginning));
                fetch.Assigned(partition, restored: false);
            }
        }

        Publish();
        return offsets;
    }

    /// <summary>Publishes the held state for the status readers (summary, views, metrics).</summary>
    public void Publish() => status.Publish(table.View(status.Counters, windowMinutes, fetch.Holds()) with
    {
        Load = new HandlerLoad(records.Dispatcher.InFlight, records.Dispatcher.WaitingForKey, records.Dispatcher.WaitingForBackoff, records.Dispatcher.Queued),
        Stopping = _closing,
    });

    /// <summary>
    /// Before partitions are given up (revoked, or held at the close), within one revoke timeout for
    /// both steps: lets their handler calls end, for at most half of it (what completes is counted;
    /// what does not is left out of the checkpoint, uncounted, and handled again by the partitions'
    /// next owner), then checkpoints them and stores the offsets the checkpoints cover, until its end.
    /// A call that never ends thus leaves the checkpoint of the rest at least half the timeout.
    /// </summary>
    public void SettleAndCheckpoint(IReadOnlyCollection<PartitionState> states)
    {
        var (settleBy, checkpointBy) = (time.After(revokeTimeout / 2), time.After(revokeTimeout));
        records.Settle(states, settleBy);
        if (records.Dispatcher.InFlightOf(states) is > 0 and var abandoned)
        {
            Log.CallsAbandoned(logger, abandoned, string.Join(", ", states.Select(s => s.Partition.Partition.Value).Order()), (revokeTimeout / 2).TotalSeconds);
        }

        checkpoints.CheckpointAndStore(states, checkpointBy);
    }

    private List<PartitionState> Owned(IReadOnlyList<TopicPartition> partitions) =>
        [.. partitions.Where(p => p.Topic == layout.Topic).Select(p => table.TryGet(p.Partition.Value, out var s) ? s : null).OfType<PartitionState>()];

    private void Release(IReadOnlyList<TopicPartition> partitions)
    {
        foreach (var state in Owned(partitions))
        {
            deadLetters.Forget(state);
            records.Forget(state);
        }

        table.Remove(partitions.Where(p => p.Topic == layout.Topic));
        fetch.Forget(partitions);
        restorer.Revoked();

        if (!_closing)
        {
            Publish();
        }
    }

    private static string Describe(IEnumerable<TopicPartition> partitions) =>
        string.Join(", ", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]"));
}
