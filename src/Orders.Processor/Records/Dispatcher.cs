using System.Collections.Concurrent;
using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>Which records may be handled at the same time.</summary>
public enum Ordering
{
    /// <summary>Records with the same key one after another, in offset order; other keys, and records without a key, concurrently.</summary>
    Key,

    /// <summary>One record of a partition at a time, in offset order (the processor's behaviour before concurrent handling).</summary>
    Partition,

    /// <summary>Any records concurrently, up to the in-flight limit.</summary>
    Unordered,
}

/// <summary>One valid order on its way through the handler: in flight, waiting for its key, or waiting out a retry's backoff.</summary>
public sealed class WorkItem(ConsumeResult<byte[]?, byte[]?> record, PartitionState state, Order order, long eventTimeMs, CancellationToken cancellation)
{
    public ConsumeResult<byte[]?, byte[]?> Record { get; } = record;

    public PartitionState State { get; } = state;

    public Order Order { get; } = order;

    public long EventTimeMs { get; } = eventTimeMs;

    public CancellationToken Cancellation { get; } = cancellation;

    /// <summary>Failed attempts so far (registry waits not counted).</summary>
    public int Failures { get; set; }

    public int RegistryWaits { get; set; }

    /// <summary>When its retry is due.</summary>
    public DateTimeOffset DueAt { get; set; }

    /// <summary>The timestamp of the attempt under way, for the processing-time histogram; null while nobody listens.</summary>
    public long? StartedAt { get; set; }

    /// <summary>The record's process span, ended with its outcome; null with tracing off.</summary>
    public System.Diagnostics.Activity? Span { get; init; }

    internal KeyLane? Lane { get; set; }
}

/// <summary>What the dispatcher asks of its owner: to handle an order, and what to do once an attempt ended.</summary>
public interface IWorkOutcomes
{
    /// <summary>Starts an attempt (the handler, and the clock of its histogram).</summary>
    ValueTask Start(WorkItem item);

    /// <summary>The handler succeeded: the record enters the aggregate.</summary>
    void Succeeded(WorkItem item);

    /// <returns>The retry's delay; null when the record was dead-lettered (done).</returns>
    TimeSpan? Failed(WorkItem item, Exception error);

    /// <summary>The record's partition left this processor before it was done: its next owner processes it.</summary>
    void Abandoned(WorkItem item);
}

/// <summary>
/// Concurrent handling in the model of Confluent's Parallel Consumer: up to <c>maxInFlight</c>
/// handler calls at once across the partitions, records of one key in offset order (or one per
/// partition, or none ordered: <see cref="Ordering"/>), and a failing record waiting out its backoff
/// alone: only later records of its key wait behind it. Everything here runs on the loop's thread;
/// handlers complete on any thread, and their completions queue up for <see cref="Pump"/>.
/// </summary>
public sealed class Dispatcher(IWorkOutcomes outcomes, int maxInFlight, Ordering ordering, TimeProvider time)
{
    private readonly ConcurrentQueue<(WorkItem Item, Exception? Error)> _completions = new();
    private readonly Queue<WorkItem> _ready = new();
    private readonly PriorityQueue<WorkItem, DateTimeOffset> _retries = new();
    private readonly Dictionary<PartitionState, Lanes> _lanes = [];
    private readonly SemaphoreSlim _completed = new(0);
    private int _waitingForKey;

    /// <summary>Handler calls under way.</summary>
    public int InFlight { get; private set; }

    /// <summary>Records waiting for an earlier record of their key.</summary>
    public int WaitingForKey => _waitingForKey;

    /// <summary>Records waiting out a retry's backoff.</summary>
    public int WaitingForBackoff => _retries.Count;

    /// <summary>Records ready to start once a handler call ends (the in-flight limit is reached).</summary>
    public int Queued => _ready.Count;

    /// <summary>Nothing in flight, queued, waiting or retrying.</summary>
    public bool Idle => InFlight == 0 && _ready.Count == 0 && _retries.Count == 0 && _waitingForKey == 0 && _completions.IsEmpty;

    /// <summary>Whether a new record of this partition and key may be handled right now, not behind another.</summary>
    public bool CanStartNow(PartitionState state, byte[]? key) =>
        InFlight < maxInFlight && _ready.Count == 0 && (state.Outstanding == 0 || LaneFor(state, key, create: false) is not { Busy: true });

    /// <summary>Takes a record whose handler call did not complete at once, or that must wait: it completes through <see cref="Pump"/>.</summary>
    /// <param name="running">The handler call already started for it, or null to start (or queue) it here.</param>
    public void Submit(WorkItem item, ValueTask? running = null)
    {
        item.State.Started();
        var lane = LaneFor(item.State, item.Record.Message.Key, create: true);
        if (running is { } call)
        {
            Claim(lane, item);
            Track(item, call);
            return;
        }

        if (lane is { Busy: true })
        {
            lane.Waiting.Enqueue(item);
            _waitingForKey++;
            return;
        }

        Claim(lane, item);
        StartOrQueue(item);
    }

    /// <summary>Applies handler completions, starts retries that are due and records that were queued. Called by the loop.</summary>
    /// <returns>How long until the next retry is due, or null if none waits.</returns>
    public TimeSpan? Pump()
    {
        while (_completions.TryDequeue(out var completion))
        {
            InFlight--;
            Finished(completion.Item, completion.Error);
        }

        var now = time.GetUtcNow();
        while (_retries.TryPeek(out var due, out var at) && at <= now)
        {
            _retries.Dequeue();
            if (!due.State.Released)
            {
                StartOrQueue(due);
            }
            else
            {
                outcomes.Abandoned(due);
            }
        }

        while (InFlight < maxInFlight && _ready.TryDequeue(out var next))
        {
            if (!next.State.Released)
            {
                Start(next);
            }
            else
            {
                outcomes.Abandoned(next);
            }
        }

        return _retries.TryPeek(out _, out var first) ? first - now : null;
    }

    /// <summary>Waits until the handler calls of <paramref name="states"/> have ended, at most until <paramref name="deadline"/>, applying what completes.</summary>
    /// <returns>Whether none of them is in flight any more.</returns>
    public bool Drain(IReadOnlyCollection<PartitionState> states, DateTimeOffset deadline)
    {
        while (InFlightOf(states) > 0 && time.GetUtcNow() < deadline)
        {
            _completed.Wait(TimeSpan.FromMilliseconds(10));
            Pump();
        }

        return InFlightOf(states) == 0;
    }

    /// <summary>The partition left this processor: what waits for it is dropped (its next owner processes it), what is in flight is ignored when it ends.</summary>
    public void Forget(PartitionState state)
    {
        if (_lanes.Remove(state, out var lanes))
        {
            foreach (var waiting in lanes.All.SelectMany(l => l.Waiting))
            {
                _waitingForKey--;
                outcomes.Abandoned(waiting);
            }
        }

        RemoveWhere(_ready, state);
        var retries = _retries.UnorderedItems.ToList();
        _retries.Clear();
        foreach (var (item, at) in retries)
        {
            if (item.State == state)
            {
                outcomes.Abandoned(item);
            }
            else
            {
                _retries.Enqueue(item, at);
            }
        }
    }

    private int InFlightOf(IReadOnlyCollection<PartitionState> states) => _inFlight.Count(i => states.Contains(i.State));

    private readonly HashSet<WorkItem> _inFlight = new(ReferenceEqualityComparer.Instance);

    private void StartOrQueue(WorkItem item)
    {
        if (InFlight < maxInFlight)
        {
            Start(item);
        }
        else
        {
            _ready.Enqueue(item);
        }
    }

    private void Start(WorkItem item)
    {
        ValueTask call;
        try
        {
            call = outcomes.Start(item);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            InFlight++;
            _inFlight.Add(item);
            _completions.Enqueue((item, e));
            return;
        }

        Track(item, call);
    }

    private void Track(WorkItem item, ValueTask call)
    {
        InFlight++;
        _inFlight.Add(item);
        if (call.IsCompleted)
        {
            _completions.Enqueue((item, Fault(call)));
            return;
        }

        _ = AwaitAsync(item, call);
    }

    private async Task AwaitAsync(WorkItem item, ValueTask call)
    {
        Exception? error = null;
        try
        {
            await call.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            error = e;
        }

        _completions.Enqueue((item, error));
        _completed.Release();
    }

    private static Exception? Fault(ValueTask completed)
    {
        try
        {
            completed.GetAwaiter().GetResult();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private void Finished(WorkItem item, Exception? error)
    {
        _inFlight.Remove(item);
        if (item.State.Released)
        {
            // No longer ours: its next owner handles the record again; nothing is counted here.
            outcomes.Abandoned(item);
            return;
        }

        if (error is null)
        {
            outcomes.Succeeded(item);
            Done(item);
            return;
        }

        if (outcomes.Failed(item, error) is { } delay)
        {
            // Waits alone: only later records of its key wait behind it (its lane stays busy).
            item.DueAt = time.GetUtcNow() + delay;
            _retries.Enqueue(item, item.DueAt);
            return;
        }

        Done(item);
    }

    /// <summary>The record is done: the next one of its key may go.</summary>
    private void Done(WorkItem item)
    {
        if (item.Lane is not { } lane)
        {
            return;
        }

        if (lane.Waiting.TryDequeue(out var next))
        {
            _waitingForKey--;
            next.Lane = lane;
            StartOrQueue(next);
            return;
        }

        lane.Busy = false;
        if (_lanes.TryGetValue(item.State, out var lanes))
        {
            lanes.Remove(lane);
        }
    }

    private static void Claim(KeyLane? lane, WorkItem item)
    {
        if (lane is not null)
        {
            lane.Busy = true;
            item.Lane = lane;
        }
    }

    /// <summary>The lane records of this key line up in; null where nothing needs to line up (no key, or unordered).</summary>
    private KeyLane? LaneFor(PartitionState state, byte[]? key, bool create)
    {
        if (ordering == Ordering.Unordered || (ordering == Ordering.Key && key is null))
        {
            return null;
        }

        if (!_lanes.TryGetValue(state, out var lanes))
        {
            if (!create)
            {
                return null;
            }

            lanes = new Lanes();
            _lanes[state] = lanes;
        }

        return lanes.For(ordering == Ordering.Partition ? Lanes.Whole : key!, create);
    }

    private void RemoveWhere(Queue<WorkItem> queue, PartitionState state)
    {
        var all = queue.ToList();
        queue.Clear();
        foreach (var item in all)
        {
            if (item.State == state)
            {
                outcomes.Abandoned(item);
            }
            else
            {
                queue.Enqueue(item);
            }
        }
    }

    /// <summary>The lanes of one partition, by key bytes (compared by content, never copied into strings).</summary>
    private sealed class Lanes
    {
        public static readonly byte[] Whole = [];

        private readonly Dictionary<byte[], KeyLane> _byKey = new(KeyComparer.Instance);

        public IEnumerable<KeyLane> All => _byKey.Values;

        public KeyLane? For(byte[] key, bool create)
        {
            if (_byKey.TryGetValue(key, out var lane) || !create)
            {
                return lane;
            }

            lane = new KeyLane(key);
            _byKey[key] = lane;
            return lane;
        }

        public void Remove(KeyLane lane) => _byKey.Remove(lane.Key);
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] key)
        {
            var hash = new HashCode();
            hash.AddBytes(key);
            return hash.ToHashCode();
        }
    }
}

/// <summary>The records of one key of one partition: the one going (in flight or retrying), and those behind it.</summary>
internal sealed class KeyLane(byte[] key)
{
    public byte[] Key { get; } = key;

    /// <summary>A record of this key is in flight or waiting out a retry.</summary>
    public bool Busy { get; set; }

    public Queue<WorkItem> Waiting { get; } = new();
}
