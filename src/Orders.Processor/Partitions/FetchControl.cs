using Confluent.Kafka;
using Orders.Hosting;
using Orders.Processor.Loop;

namespace Orders.Processor.Partitions;

/// <summary>Why a partition may not fetch. A partition is held while it has any of them.</summary>
[Flags]
public enum FetchHold
{
    None = 0,

    /// <summary>Assigned, its state not restored yet (the checkpoint or dead letters could not be read).</summary>
    Restoring = 1,

    /// <summary>A record that could not be read waits out its backoff before it is read again.</summary>
    Retry = 2,

    /// <summary>The Schema Registry could not be reached: every record needs it, so the partition waits as a whole.</summary>
    Registry = 4,

    /// <summary>Held so that its checkpoint can be taken once its dead letters are acknowledged.</summary>
    Checkpoint = 8,

    /// <summary>Too much outstanding, or completed out of order: held until half of it is done.</summary>
    Backpressure = 16,

    /// <summary>Its offsets jumped and its start could not be read to tell a loss from a gap: it fetches again after a wait.</summary>
    GapCheck = 32,

    /// <summary>Records from before its position came: the client moved it back, and it seeks to its position again.</summary>
    Reposition = 64,
}

public static class FetchHolds
{
    /// <summary>The reasons in words, for the views: <c>checkpoint, backpressure</c>; empty when the partition fetches.</summary>
    public static string Describe(this FetchHold held) => held == FetchHold.None
        ? ""
        : string.Join(", ", Enum.GetValues<FetchHold>().Where(r => r != FetchHold.None && held.HasFlag(r)).Select(r => r switch
        {
            FetchHold.Restoring => "restoring",
            FetchHold.Retry => "retry wait",
            FetchHold.Registry => "registry wait",
            FetchHold.Checkpoint => "checkpoint",
            FetchHold.GapCheck => "gap check",
            FetchHold.Reposition => "repositioning",
            _ => "backpressure",
        }));
}

/// <summary>
/// The one place that decides whether a partition may fetch, and the only caller of the consumer's
/// <c>Pause</c>, <c>Resume</c> and <c>Seek</c>: KafkaFlow's <c>ConsumerFlowManager</c>, Parallel
/// Consumer's <c>managePauseOfSubscription</c>, Flink's <c>pauseOrResumeSplits</c>. Each partition's
/// reasons to be held are kept together: it is paused when its first reason begins and resumed, with
/// a seek to its state's fetch position, when its last one ends. Records of a held partition that
/// were fetched before the pause are dropped by the gate and fetched again from there. The timed
/// reasons (a retry, a registry wait) end by the injected clock in <see cref="Pump"/>.
/// Inside a rebalance callback librdkafka ignores a pause of a partition it has not assigned yet
/// (the assignment follows the callback): what is asked there takes effect at the next pump.
/// </summary>
/// <remarks>
/// Why a handler failure does not hold its partition: it is one record's, so it waits alone in the
/// <see cref="Records.Dispatcher"/> and only later records of its key wait behind it. A record that
/// cannot be read yet (the registry away) holds the whole partition, since every record needs the registry.
/// </remarks>
public sealed class FetchControl(IConsumerPort consumer, PartitionTable table, TimeProvider time, TimeSpan maxWait)
{
    private readonly Dictionary<TopicPartition, Entry> _entries = [];
    private readonly Dictionary<TopicPartition, Pending> _pending = [];
    private int _held;
    private int _retrying;
    private bool _inCallback;

    private enum Pending
    {
        Pause,
        Resume,
        ResumeAtFetchPosition,
    }

    /// <summary>Some partition is held, or has a record that failed to be read and is not read yet.</summary>
    public bool Busy => _held > 0 || _retrying > 0;

    /// <summary>Some partition has a record that failed to be read and was not read since (its failures so far are kept).</summary>
    public bool HasRetries => _retrying > 0;

    /// <summary>Every record that failed to be read (and there is one) failed for the registry: nothing else keeps the run from progressing.</summary>
    public bool AllWaitForRegistry => _retrying > 0 && _entries.Values.Where(e => e.HasRetry).All(e => e.RegistryWaits > 0);

    /// <summary>Why the partition may not fetch (<see cref="FetchHold.None"/>: it may).</summary>
    public FetchHold HeldFor(TopicPartition partition) =>
        _held > 0 && _entries.TryGetValue(partition, out var entry) ? entry.Reasons : FetchHold.None;

    /// <summary>True while the partition may not fetch; cheap when nothing is held.</summary>
    public bool IsHeld(TopicPartition partition) => _held > 0 && HeldFor(partition) != FetchHold.None;

    /// <summary>True while the record's partition may not fetch; nothing allocated when no partition is held.</summary>
    public bool IsHeld(ConsumeResult<byte[]?, byte[]?> record) => _held > 0 && IsHeld(record.TopicPartition);

    /// <summary>A rebalance callback runs: what is asked of the consumer until <see cref="LeaveCallback"/> waits for the next pump.</summary>
    public void EnterCallback() => _inCallback = true;

    public void LeaveCallback() => _inCallback = false;

    /// <summary>Adds a reason to hold the partition; the first one pauses it.</summary>
    public void Hold(TopicPartition partition, FetchHold reason)
    {
        var entry = EntryFor(partition);
        if (entry.Reasons == FetchHold.None)
        {
            _held++;
            Apply(partition, Pending.Pause);
        }

        entry.Reasons |= reason;
    }

    /// <summary>Ends a reason to hold the partition; when it was the last, the partition resumes at its state's fetch position.</summary>
    public void Release(TopicPartition partition, FetchHold reason)
    {
        if (!_entries.TryGetValue(partition, out var entry) || (entry.Reasons & reason) == FetchHold.None)
        {
            return;
        }

        entry.Reasons &= ~reason;
        if (entry.Reasons != FetchHold.None)
        {
            return;
        }

        _held--;
        if (!entry.HasRetry)
        {
            _entries.Remove(partition);
        }

        Apply(partition, Pending.ResumeAtFetchPosition);
    }

    /// <summary>
    /// The record at <paramref name="position"/> could not be read: its partition waits <paramref name="delay"/>
    /// (for the registry, or to retry), then reads it again, remembering how often it failed.
    /// </summary>
    public void WaitToRead(TopicPartitionOffset position, int failures, int registryWaits, TimeSpan delay, FetchHold reason)
    {
        var entry = EntryFor(position.TopicPartition);
        if (!entry.HasRetry)
        {
            _retrying++;
        }

        if (entry.Timed != FetchHold.None && entry.Timed != reason && (entry.Reasons &= ~entry.Timed) == FetchHold.None)
        {
            // Another wait of the same record, for another reason: this one replaces it.
            _held--;
        }

        (entry.RetryOffset, entry.Failures, entry.RegistryWaits, entry.DueAt) = (position.Offset, failures, registryWaits, time.After(delay));
        entry.Timed = reason;
        Hold(position.TopicPartition, reason);
    }

    /// <summary>
    /// The partition waits <paramref name="delay"/>, then fetches again from its state's fetch position; unlike
    /// <see cref="WaitToRead"/>, no record's failures are kept: the records were not read, only not yet accounted for.
    /// </summary>
    public void WaitToFetch(TopicPartition partition, TimeSpan delay, FetchHold reason)
    {
        var entry = EntryFor(partition);
        if (entry.Timed != FetchHold.None && entry.Timed != reason && (entry.Reasons &= ~entry.Timed) == FetchHold.None)
        {
            _held--;
        }

        (entry.Timed, entry.DueAt) = (reason, time.After(delay));
        Hold(partition, reason);
    }

    /// <summary>Failures so far of the record at this position: zero for a record not seen failing before.</summary>
    public (int Failures, int RegistryWaits) History(TopicPartitionOffset position) =>
        _entries.TryGetValue(position.TopicPartition, out var entry) && entry.HasRetry && entry.RetryOffset == position.Offset
            ? (entry.Failures, entry.RegistryWaits)
            : (0, 0);

    /// <summary>The record that failed to be read was read (processed or dead-lettered): its history goes.</summary>
    public void Read(TopicPartition partition)
    {
        if (_entries.TryGetValue(partition, out var entry) && entry.HasRetry)
        {
            _retrying--;
            entry.RetryOffset = Offset.Unset;
            if (entry.Reasons == FetchHold.None)
            {
                _entries.Remove(partition);
            }
        }
    }

    /// <summary>
    /// Assigned: a partition whose state is restored fetches from where the assignment put it (librdkafka
    /// keeps an application's pause across reassignment: it must not come back paused); one still restoring is held.
    /// </summary>
    public void Assigned(TopicPartition partition, bool restored)
    {
        if (restored)
        {
            Apply(partition, Pending.Resume);
        }
        else
        {
            Hold(partition, FetchHold.Restoring);
        }
    }

    /// <summary>
    /// The partitions left this processor (revoked or lost): their reasons are dropped, and the consumer's
    /// pause flag cleared now, while they are still assigned, or it would greet their next return.
    /// </summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            if (_entries.Remove(partition, out var entry))
            {
                _held -= entry.Reasons != FetchHold.None ? 1 : 0;
                _retrying -= entry.HasRetry ? 1 : 0;
            }

            _pending.Remove(partition);
            try
            {
                consumer.Resume([partition]);
            }
            catch (KafkaException)
            {
                // Not assigned any more: nothing to resume.
            }
        }
    }

    /// <summary>Applies what a rebalance callback asked, and ends the timed holds that are due. Called before every poll.</summary>
    /// <returns>How long the poll may block before the next timed hold ends (at most the maximum wait, at least 1 ms).</returns>
    public TimeSpan Pump()
    {
        if (_pending.Count > 0 && !_inCallback)
        {
            var pending = _pending.ToList();
            _pending.Clear();
            foreach (var (partition, operation) in pending)
            {
                Apply(partition, operation);
            }
        }

        var wait = maxWait;
        if (_held == 0)
        {
            return wait;
        }

        var now = time.GetTimestamp();
        List<(TopicPartition, FetchHold)>? due = null;
        foreach (var (partition, entry) in _entries)
        {
            if (entry.Timed == FetchHold.None)
            {
                continue;
            }

            if (entry.DueAt <= now)
            {
                (due ??= []).Add((partition, entry.Timed));
                entry.Timed = FetchHold.None;
            }
            else if (Monotonic.Span(time, entry.DueAt - now) is var left && left < wait)
            {
                wait = left;
            }
        }

        foreach (var (partition, reason) in due ?? [])
        {
            Release(partition, reason);
        }

        return wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait;
    }

    /// <summary>For the view: each held partition and why, by partition number.</summary>
    public IReadOnlyDictionary<int, FetchHold> Holds() =>
        _entries.Where(e => e.Value.Reasons != FetchHold.None).ToDictionary(e => e.Key.Partition.Value, e => e.Value.Reasons);

    private Entry EntryFor(TopicPartition partition)
    {
        if (!_entries.TryGetValue(partition, out var entry))
        {
            entry = new Entry();
            _entries[partition] = entry;
        }

        return entry;
    }

    private void Apply(TopicPartition partition, Pending operation)
    {
        if (_inCallback)
        {
            // The later ask wins; a resume asked after a pause still seeks.
            _pending[partition] = operation;
            return;
        }

        // Asked after the callback: what the callback asked is older, and must not undo this.
        if (_pending.Count > 0)
        {
            _pending.Remove(partition);
        }

        switch (operation)
        {
            case Pending.Pause:
                consumer.Pause([partition]);
                break;
            case Pending.Resume:
                consumer.Resume([partition]);
                break;
            default:
                // The seek matters as much as the resume: librdkafka's broker thread does not notice a resumed
                // partition until it next wakes (measured on the local stack: half a second and more when every
                // partition of the broker had been paused); a seek wakes it at once, and drops what was fetched before.
                consumer.Resume([partition]);
                if (table.TryGet(partition.Partition.Value, out var state))
                {
                    consumer.Seek(new TopicPartitionOffset(partition, state.FetchPosition));
                }

                break;
        }
    }

    private sealed class Entry
    {
        public FetchHold Reasons { get; set; }

        /// <summary>The timed reason (retry, registry, gap check or repositioning) that <see cref="DueAt"/> ends.</summary>
        public FetchHold Timed { get; set; }

        public long DueAt { get; set; }

        public Offset RetryOffset { get; set; } = Offset.Unset;

        public int Failures { get; set; }

        public int RegistryWaits { get; set; }

        public bool HasRetry => RetryOffset != Offset.Unset;
    }
}
