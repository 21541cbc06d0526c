using System.Collections.Concurrent;
using Confluent.Kafka;
using Confluent.SchemaRegistry;
using Microsoft.Extensions.Logging;
using Orders.Hosting;
using Orders.Kafka;
using Orders.Processor.Aggregates;
using Orders.Processor.Checkpoints;
using Orders.Processor.Loop;
using Orders.Processor.Observability;

namespace Orders.Processor.Partitions;

/// <summary>
/// Restores assigned partitions: each one's newest checkpoint, the dead letters written for it
/// since (decisions to honour, not take again), and the records retention deleted while no one
/// held it (counted as lost). A partition that cannot be restored yet (the registry or a broker is
/// away) stays in the table as restoring, paused, and is tried again after a backoff.
/// <para>
/// The reading runs off the loop's thread (a thread of its own), one read per source at a time, and the loop waits for it at most
/// <paramref name="inlineWait"/>: a restore read in that time (the common case) takes effect at once,
/// inside the assignment's callback, so the partitions start at their checkpoints; one that takes
/// longer (a broker slow to answer, up to <paramref name="timeout"/> per read) goes on reading while
/// the loop processes the partitions it holds, and takes effect on the loop's thread once read
/// (<see cref="Completed"/>). What crosses threads is the read's input (the partitions) and its
/// result (what is stored for each, or why it could not be read): the table, the states and the
/// fetch stay the loop's. A read gives up as soon as the processor is stopping (<paramref name="stopping"/>)
/// or <see cref="Cancel"/> is called, and once every partition it reads has been revoked (<see cref="Revoked"/>).
/// </para>
/// <para>
/// The first of <paramref name="sources"/> reads whatever is due; a second, where given (a reader client of its own),
/// reads partitions due while the first is under way that are not known to be slow: partitions assigned while a
/// broker that does not answer holds the first read (up to its timeouts: a minute with the defaults) are read at
/// once instead of after it. It is left to such partitions, never to those whose reads timed out, so that one slow
/// broker cannot hold both.
/// </para>
/// </summary>
/// <param name="sources">Where state is read from: one source per read under way, each used by one read at a time.</param>
/// <param name="inlineWait">How long the loop waits for a read it starts before going on without it.</param>
public sealed class PartitionRestorer(
    IReadOnlyList<IPartitionStateSource> sources,
    PartitionTable table,
    DeadLetters.DeadLetterWriter deadLetters,
    CheckpointSchedule schedule,
    RetentionGaps gaps,
    int windowMinutes,
    TimeSpan timeout,
    TimeSpan retryDelay,
    TimeSpan inlineWait,
    ProcessorCounters counters,
    FatalSignal fatal,
    TimeProvider time,
    ILogger logger,
    CancellationToken stopping = default) : IDisposable
{
    private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);

    // The read under way from each source (or ended and not yet taken in), by the source's index.
    private readonly ReadUnderWay?[] _reading = new ReadUnderWay?[sources.Count];

    // Partitions whose last read alone timed out (the loop's thread), with when they were last read alone (a
    // count): read after the others, longest unread first, and not at all once another has timed out in the
    // same read, so that slow brokers cost a read about two timeouts, and each slow partition is read in turn.
    private readonly Dictionary<int, long> _slow = [];

    // Partitions whose read waits for the dead letters their previous ownership sent (logged once per wait).
    private readonly HashSet<int> _waitingForLetters = [];
    private long _readsAlone;

    /// <summary>A read is under way (or ended and not yet taken in by <see cref="Completed"/>).</summary>
    public bool Reading => _reading.Any(r => r is not null);

    /// <summary>For tests: the partition's last read alone timed out, while it waited for it (it is read after others).</summary>
    internal bool KnownSlow(int partition) => _slow.ContainsKey(partition);

    /// <summary>For tests: a read has ended and is not taken in yet (everything it found is waiting for <see cref="Completed"/>).</summary>
    internal bool AnyReadEnded => _reading.Any(r => r is { Task.IsCompleted: true });

    /// <summary>
    /// Starts reading the partitions' state off the loop's thread and waits for it up to the inline
    /// wait. Partitions a read under way is reading are left to it. Nothing starts while every source
    /// is in use, nor for partitions known to be slow while another read is under way: the partitions stay restoring, due, and
    /// the housekeeping starts them after it.
    /// </summary>
    /// <returns>
    /// The partitions restored within the wait (their states now in the table); the others are read
    /// on, or wait for their retry. A read of several that a broker refuses, or that times out, is tried
    /// again for each alone: one partition whose checkpoints cannot be read (an offline partition) must
    /// not keep the others from their records.
    /// </returns>
    public IReadOnlyList<TopicPartition> Restore(IReadOnlyList<TopicPartition> partitions)
    {
        partitions = AfterTheirLetters(partitions);
        var free = Array.IndexOf(_reading, null);
        if (free < 0)
        {
            return [];
        }

        if (Reading)
        {
            // Not those a read under way still has to read (one whose failure is taken in waits for its retry like any).
            partitions = [.. partitions.Where(p => !_slow.ContainsKey(p.Partition.Value) && !_reading.Any(r => r is not null && r.Reads(table, p.Partition.Value)))];
        }

        if (partitions.Count == 0)
        {
            return [];
        }

        var tickets = partitions.ToDictionary(p => p.Partition.Value, p => table.RestoreTicket(p.Partition.Value));
        var outcomes = new ReadOutcomes();
        var cancel = CancellationTokenSource.CreateLinkedTokenSource(_cancel.Token);
        var token = cancel.Token;
        var ordered = partitions.OrderBy(p => _slow.TryGetValue(p.Partition.Value, out var lastRead) ? lastRead : long.MinValue).ToList();
        var slow = partitions.Select(p => p.Partition.Value).Where(_slow.ContainsKey).ToHashSet();
        // A thread of its own: a read may wait for a broker up to its timeout, and for the registry synchronously.
        var source = sources[free];
        var read = Task.Factory.StartNew(() => Read(source, ordered, slow, outcomes, token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _reading[free] = new ReadUnderWay(partitions[0].Topic, tickets, outcomes, read, cancel);
        ((IAsyncResult)read).AsyncWaitHandle.WaitOne(inlineWait);

        // Only this read's: what another has found meanwhile is the housekeeping's to take in and resume (the
        // assignment's callback resumes only the partitions it was given).
        List<TopicPartition> restored = [];
        CompletedAt(free, restored);
        return restored;
    }

    /// <summary>
    /// Leaves out partitions whose previous ownership here sent dead letters still on their way (it was given up
    /// before they were acknowledged: a dead-letter broker slower than the revoke's timeout). A read now would not
    /// find them: the records they decide would be decided again, written twice, or counted although dead-lettered.
    /// Each send ends within the producer's message timeout, so the wait is bounded by it.
    /// </summary>
    private IReadOnlyList<TopicPartition> AfterTheirLetters(IReadOnlyList<TopicPartition> partitions)
    {
        List<TopicPartition> ready = new(partitions.Count);
        foreach (var partition in partitions)
        {
            var id = partition.Partition.Value;
            if (!deadLetters.InFlightFor(id))
            {
                _waitingForLetters.Remove(id);
                ready.Add(partition);
            }
            else if (_waitingForLetters.Add(id))
            {
                Log.RestoreWaitsForDeadLetters(logger, partition.Topic, id);
            }
        }

        return ready;
    }

    /// <summary>
    /// Takes in what the reads under way have found so far (partitions read alone come one by one), and
    /// each read itself once it has ended: the partitions found are restored, those that could not be
    /// read wait for their retry.
    /// </summary>
    /// <returns>The partitions restored.</returns>
    public IReadOnlyList<TopicPartition> Completed()
    {
        List<TopicPartition> restored = [];
        for (var i = 0; i < _reading.Length; i++)
        {
            CompletedAt(i, restored);
        }

        return restored;
    }

    private void CompletedAt(int source, List<TopicPartition> restored)
    {
        if (_reading[source] is not { } reading)
        {
            return;
        }

        if (reading.Task.IsCompleted)
        {
            _reading[source] = null;
            reading.Cancel.Dispose();
            // A fault that is not a read's failure (a bug) surfaces here, on the loop's thread, as it would have inside the read.
            reading.Task.GetAwaiter().GetResult();
        }

        TakeIn(reading, restored);
    }

    private void TakeIn(ReadUnderWay reading, List<TopicPartition> restored)
    {
        List<int> outdated = [];
        while (reading.Outcomes.Stored.TryDequeue(out var found))
        {
            reading.TakenIn.Add(found.Partition);
            if (!reading.StillWaiting(table, found.Partition))
            {
                outdated.Add(found.Partition);
                continue;
            }

            var topicPartition = new TopicPartition(reading.Topic, found.Partition);
            _slow.Remove(found.Partition);
            Add(topicPartition, found.Stored);
            restored.Add(topicPartition);
        }

        while (reading.Outcomes.Failed.TryDequeue(out var failed))
        {
            reading.TakenIn.UnionWith(failed.Partitions);
            var waiting = failed.Partitions.Where(p => reading.StillWaiting(table, p)).ToList();
            if (failed.Slow == SlowRead.TimedOut && waiting.Count == 1)
            {
                _slow[waiting[0]] = ++_readsAlone;
            }

            outdated.AddRange(failed.Partitions.Except(waiting));
            if (waiting.Count == 0)
            {
                continue;
            }

            var retryAt = time.After(retryDelay);
            foreach (var partition in waiting)
            {
                table.Restoring(partition, retryAt, failed.Error);
            }

            Log.RestoreFailed(logger, reading.Topic, string.Join(",", waiting), (long)retryDelay.TotalMilliseconds, failed.Error);
        }

        if (outdated.Count > 0)
        {
            Log.RestoreOutdated(logger, reading.Topic, string.Join(",", outdated.Order()));
        }
    }

    /// <summary>A read under way gives up (the loop is ending: what it would read is no longer wanted).</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>
    /// Partitions were revoked or lost (the callback's thread, after they left the table). A read under way does
    /// not read them alone, and gives up once every partition it has not finished is revoked: what it would find
    /// is dropped anyway, and it holds its reader (a revoke does not wait for it, but the partitions' next read
    /// does, up to its timeouts when a broker does not answer).
    /// </summary>
    public void Revoked()
    {
        // What is remembered of a partition no longer restoring here goes with it: if it comes back, it is read first
        // again (its broker may be well by then), and a wait for its dead letters is logged afresh.
        bool Gone(int partition) => table.RestoreTicket(partition) is null;
        foreach (var partition in _slow.Keys.Where(Gone).ToList())
        {
            _slow.Remove(partition);
        }

        _waitingForLetters.RemoveWhere(Gone);

        foreach (var reading in _reading)
        {
            if (reading is not { Task.IsCompleted: false } || reading.Cancel.IsCancellationRequested)
            {
                continue;
            }

            var revoked = reading.Tickets.Keys.Where(p => !reading.StillWaiting(table, p)).ToList();
            foreach (var partition in revoked)
            {
                reading.Outcomes.Unwanted[partition] = true;
            }

            var unfinished = reading.Tickets.Keys.Where(p => !reading.Outcomes.Finished.ContainsKey(p)).ToList();
            if (unfinished.Count > 0 && unfinished.All(revoked.Contains))
            {
                Log.RestoreGivenUp(logger, reading.Topic, string.Join(",", unfinished.Order()));
                reading.Outcomes.GivenUp = true;
                reading.Cancel.Cancel();
            }
        }
    }

    public void Dispose()
    {
        // A read that has not ended yet still looks at the tokens: their sources are left to the process's end with it.
        if (_reading.All(r => r is not { Task.IsCompleted: false }))
        {
            foreach (var reading in _reading)
            {
                reading?.Cancel.Dispose();
            }

            _cancel.Dispose();
        }
    }

    /// <summary>
    /// Off the loop's thread: reads the partitions together, and each alone if the broker refused or the read
    /// timed out. Those whose last read alone timed out (<paramref name="slow"/>) come last, and once a read
    /// alone has timed out in this read, they are not read again now but wait for their retry: each would
    /// likely wait as long again, and partitions assigned meanwhile wait for this read to end.
    /// </summary>
    private void Read(IPartitionStateSource source, IReadOnlyList<TopicPartition> partitions, HashSet<int> slow, ReadOutcomes outcomes, CancellationToken cancellationToken)
    {
        if (TryRead(source, partitions, retryOnFailure: partitions.Count == 1, outcomes, cancellationToken) != Outcome.FailedTogether)
        {
            return;
        }

        string? timedOut = null;
        foreach (var partition in partitions)
        {
            if (outcomes.Unwanted.ContainsKey(partition.Partition.Value))
            {
                // Revoked while the read was under way: what it would find would be dropped.
                continue;
            }

            if (timedOut is not null && slow.Contains(partition.Partition.Value))
            {
                outcomes.Fail([partition.Partition.Value], $"not read again yet, {timedOut} having timed out first", SlowRead.Skipped);
                continue;
            }

            var outcome = TryRead(source, [partition], retryOnFailure: true, outcomes, cancellationToken);
            if (outcome == Outcome.Stop)
            {
                break;
            }

            if (outcome == Outcome.TimedOut)
            {
                timedOut ??= $"{partition.Topic}[{partition.Partition.Value}]";
            }
        }
    }

    private Outcome TryRead(IPartitionStateSource source, IReadOnlyList<TopicPartition> partitions, bool retryOnFailure, ReadOutcomes outcomes, CancellationToken cancellationToken)
    {
        var ids = partitions.Select(p => p.Partition.Value).ToList();
        var span = ProcessorTracing.StartOwn($"restore {partitions[0].Topic}", System.Diagnostics.ActivityKind.Internal, partitions[0].Topic, "restore");
        span?.SetTag("orders.partitions", string.Join(",", ids));
        IReadOnlyDictionary<int, StoredPartition> stored;
        try
        {
            stored = source.Read(ids, timeout, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Nothing was taken from them yet: the close leaves them as they are, unrestored, for their next owner.
            // Or they were all revoked (Revoked said so, and set this first; a stop may come after it).
            var stopping = !outcomes.GivenUp;
            if (stopping)
            {
                Log.RestoreAbandoned(logger, partitions[0].Topic, string.Join(",", ids));
            }

            ProcessorTracing.Finish(span, stopping ? "stopping" : "revoked");
            return Outcome.Stop;
        }
        catch (Exception e) when (e is RegistryUnavailableException or KafkaException or TimeoutException or SchemaRegistryException or HttpRequestException)
        {
            ProcessorTracing.Finish(span, e.Message);
            if (fatal.StopsOnRejectedCredentials(e))
            {
                return Outcome.Stop;
            }

            // A broker's refusal, or a read that timed out, may be one partition's (an offline partition: a real
            // cluster's reads of it time out, waiting for a leader), so each is read alone, off the loop's thread: the
            // others start, and only that one waits for its retry. A registry away would fail each alike.
            if (!retryOnFailure && e is KafkaException or TimeoutException)
            {
                Log.RestoreFailedTogether(logger, partitions[0].Topic, string.Join(",", ids), e.Message);
                return Outcome.FailedTogether;
            }

            var timedOut = e is TimeoutException or KafkaException { Error.Code: ErrorCode.Local_TimedOut };
            outcomes.Fail(ids, e.Message, timedOut && ids.Count == 1 ? SlowRead.TimedOut : SlowRead.No);
            return timedOut ? Outcome.TimedOut : Outcome.Retrying;
        }

        foreach (var id in ids)
        {
            outcomes.Store(id, stored[id]);
        }

        span?.SetTag("orders.checkpoints.restored", stored.Values.Count(s => s.Checkpoint is not null));
        ProcessorTracing.Finish(span);
        return Outcome.Restored;
    }

    private void Add(TopicPartition partition, StoredPartition stored)
    {
        var checkpoint = stored.Checkpoint;
        var aggregate = checkpoint is null ? new PartitionAggregate(windowMinutes) : PartitionAggregate.FromData(checkpoint.Data, windowMinutes);
        var offsets = new OffsetTracker(checkpoint?.NextOffset ?? 0, checkpoint?.CompletedRanges);
        var state = new PartitionState(partition, aggregate, offsets, stored.DeadLetterPartition, stored.DeadLetters.End, stored.DeadLetters.Decisions);

        // Records deleted by retention while no one held the partition are a loss to count now.
        if (stored.Watermarks.Low.Value > state.FetchPosition)
        {
            gaps.Skip(state, stored.Watermarks.Low.Value, stored.Watermarks);
        }

        table.Add(state);
        schedule.Started(state);
        if (checkpoint is not null)
        {
            // Its chunks go once this state's first checkpoint is on record.
            state.Checkpoint.Supersede(checkpoint.ChunkKeys);
            counters.CheckpointRestored();
        }

        Log.Restored(
            logger, partition.Topic, partition.Partition.Value, state.NextOffset, aggregate.Count, stored.DeadLetters.Decisions.Count,
            stored.DeadLetters.Duplicates, checkpoint?.CheckpointId ?? "none");
    }

    /// <summary>A read started by the loop: the partitions' tickets when it began, what it finds, and what makes it give up.</summary>
    private sealed record ReadUnderWay(string Topic, IReadOnlyDictionary<int, long?> Tickets, ReadOutcomes Outcomes, Task Task, CancellationTokenSource Cancel)
    {
        /// <summary>The partition waits for its state as it did when the read began: not revoked meanwhile.</summary>
        public bool StillWaiting(PartitionTable table, int partition) => Tickets.GetValueOrDefault(partition) is { } ticket && table.RestoreTicket(partition) == ticket;

        /// <summary>Partitions whose outcome the loop has taken in (the loop's thread only).</summary>
        public HashSet<int> TakenIn { get; } = [];

        /// <summary>The partition's outcome, for the ownership that waits for it, is still to come from this read.</summary>
        public bool Reads(PartitionTable table, int partition) => !TakenIn.Contains(partition) && StillWaiting(table, partition);
    }

    /// <summary>
    /// What a read finds, as it finds it (the reading thread adds, the loop takes): the state stored for
    /// some partitions, why others could not be read (they wait for their retry); and, from the loop, the
    /// partitions revoked since it began, which it does not read alone.
    /// </summary>
    private sealed class ReadOutcomes
    {
        public ConcurrentQueue<(int Partition, StoredPartition Stored)> Stored { get; } = new();

        public ConcurrentQueue<(IReadOnlyList<int> Partitions, string Error, SlowRead Slow)> Failed { get; } = new();

        /// <summary>Partitions this read has an outcome for (the reading thread adds).</summary>
        public ConcurrentDictionary<int, bool> Finished { get; } = new();

        /// <summary>Partitions revoked since the read began (the loop adds): not read alone.</summary>
        public ConcurrentDictionary<int, bool> Unwanted { get; } = new();

        /// <summary>The read was given up because every partition it had not finished was revoked (set before its token is cancelled).</summary>
        public volatile bool GivenUp;

        public void Store(int partition, StoredPartition stored)
        {
            Finished[partition] = true;
            Stored.Enqueue((partition, stored));
        }

        public void Fail(IReadOnlyList<int> partitions, string error, SlowRead slow)
        {
            foreach (var partition in partitions)
            {
                Finished[partition] = true;
            }

            Failed.Enqueue((partitions, error, slow));
        }
    }

    /// <summary>Whether a failure was a read of one partition that timed out, or one not tried for another's.</summary>
    private enum SlowRead
    {
        No,
        TimedOut,
        Skipped,
    }

    private enum Outcome
    {
        Restored,

        /// <summary>A broker refused the read of several, or it timed out: each is to be tried alone, at once.</summary>
        FailedTogether,

        /// <summary>Failed; the partitions wait for their retry.</summary>
        Retrying,

        /// <summary>The read of one partition timed out (its broker does not answer); it waits for its retry.</summary>
        TimedOut,

        /// <summary>The processor is stopping, every partition of the read was revoked, or the registry refuses the credentials: nothing more is tried.</summary>
        Stop,
    }
}
