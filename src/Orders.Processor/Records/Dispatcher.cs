using Confluent.Kafka;
using Orders.Contracts;
using Orders.Hosting;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// Concurrent handling in the model of Confluent's Parallel Consumer: up to <c>maxInFlight</c>
/// handler calls at once across the partitions, records of one key in offset order (or one per
/// partition, or none ordered: <see cref="Ordering"/>), and a failing record waiting out its backoff
/// alone: only later records of its key wait behind it. Everything here runs on the loop's thread;
/// handlers complete on any thread, and their completions queue up for <see cref="Pump"/>, which
/// gives them back: what becomes of each is the <see cref="RecordProcessor"/>'s to decide, which then
/// tells the dispatcher (<see cref="Retry"/>, <see cref="Done"/>).
/// </summary>
public sealed class Dispatcher(HandlerInvoker handler, int maxInFlight, Ordering ordering, TimeProvider time)
{
    private readonly HandlerCalls _calls = new();
    private readonly Queue<WorkItem> _ready = new();
    private readonly PriorityQueue<WorkItem, long> _retries = new();
    private readonly KeyLanes _lanes = new(ordering);

    // Partitions about to be given up (Quiesce): nothing more of theirs starts.
    private readonly HashSet<PartitionState> _leaving = [];

    /// <summary>Handler calls under way.</summary>
    public int InFlight => _calls.Count;

    /// <summary>Records waiting for an earlier record of their key.</summary>
    public int WaitingForKey => _lanes.Waiting;

    /// <summary>Records waiting out a retry's backoff.</summary>
    public int WaitingForBackoff => _retries.Count;

    /// <summary>Records ready to start once a handler call ends (the in-flight limit is reached).</summary>
    public int Queued => _ready.Count;

    /// <summary>Nothing in flight, queued, waiting or retrying.</summary>
    public bool Idle => InFlight == 0 && _ready.Count == 0 && _retries.Count == 0 && _lanes.Waiting == 0;

    /// <summary>Whether a new record of this partition and key may be handled right now, not behind another.</summary>
    public bool CanStartNow(PartitionState state, byte[]? key) =>
        InFlight < maxInFlight && _ready.Count == 0 && (state.Outstanding == 0 || !_lanes.IsBusy(state, key));

    /// <summary>Takes a record whose handler call did not complete at once, or that must wait: it completes through <see cref="Pump"/>.</summary>
    /// <param name="running">The handler call already started for it, or null to start (or queue) it here.</param>
    public void Submit(WorkItem item, ValueTask? running = null)
    {
        item.State.Started();
        if (_lanes.Enter(item, running is not null))
        {
            // Behind an earlier record of its key: it goes when that one is done.
            return;
        }

        if (running is { } call)
        {
            _calls.Add(item, call);
        }
        else
        {
            StartOrQueue(item);
        }
    }

    /// <summary>Takes the handler calls that ended, starts the retries that are due and the records that were queued. Called by the loop.</summary>
    /// <param name="ended">Receives the calls that ended, and the records whose partition left before they could start.</param>
    /// <returns>How long until the next retry is due, or null if none waits.</returns>
    public TimeSpan? Pump(List<Completion> ended)
    {
        while (_calls.TryTakeCompleted(out var item, out var error))
        {
            // No longer ours: its next owner handles the record again; nothing is counted here.
            ended.Add(new Completion(item, error, Abandoned: item.State.Released));
        }

        if (_retries.Count == 0)
        {
            // No clock read: this runs every turn, and a turn is one record while catching up.
            StartReady(ended);
            return null;
        }

        var now = time.GetTimestamp();
        while (_retries.TryPeek(out var due, out var at) && at <= now)
        {
            _retries.Dequeue();
            if (!due.State.Released)
            {
                StartOrQueue(due);
            }
            else
            {
                ended.Add(new Completion(due, null, Abandoned: true));
            }
        }

        StartReady(ended);
        return _retries.TryPeek(out _, out var first) ? Monotonic.Span(time, first - now) : null;
    }

    private void StartReady(List<Completion> ended)
    {
        // Each queued record looked at once: one of a partition being given up goes to the back, to be dropped with it.
        for (var looked = _ready.Count; looked > 0 && InFlight < maxInFlight && _ready.TryDequeue(out var next); looked--)
        {
            if (next.State.Released)
            {
                ended.Add(new Completion(next, null, Abandoned: true));
            }
            else if (MayStart(next))
            {
                Start(next);
            }
            else
            {
                _ready.Enqueue(next);
            }
        }
    }

    /// <summary>The record's attempt failed and it is to be tried again: it waits alone; only later records of its key wait behind it (its lane stays busy).</summary>
    public void Retry(WorkItem item, TimeSpan delay)
    {
        item.DueAt = time.After(delay);
        _retries.Enqueue(item, item.DueAt);
    }

    /// <summary>The record is done (counted or dead-lettered): the next one of its key may go.</summary>
    public void Done(WorkItem item)
    {
        if (_lanes.Leave(item) is { } next)
        {
            StartOrQueue(next);
        }
    }

    /// <summary>
    /// These partitions are about to be given up (revoked, or the processor closes): nothing more of
    /// theirs starts (a retry that comes due, a record queued or next of its key waits, and is dropped
    /// with its partition, for its next owner), while their calls under way end. A record started now
    /// would be abandoned once its side effects had happened, and handled again by the next owner.
    /// </summary>
    public void Quiesce(IReadOnlyCollection<PartitionState> states) => _leaving.UnionWith(states);

    /// <summary>Handler calls under way for records of these partitions (taken back or not).</summary>
    public int InFlightOf(IReadOnlyCollection<PartitionState> states) => _calls.CountOf(states);

    /// <summary>Blocks until a handler call ends or the timeout passes.</summary>
    public void WaitForOne(TimeSpan timeout) => _calls.WaitForOne(timeout);

    /// <summary>The partition left this processor: what waits for it is dropped (its next owner processes it), what is in flight is abandoned when it ends.</summary>
    /// <param name="abandoned">Receives the records dropped.</param>
    public void Forget(PartitionState state, List<Completion> abandoned)
    {
        _leaving.Remove(state);
        foreach (var waiting in _lanes.Forget(state))
        {
            abandoned.Add(new Completion(waiting, null, Abandoned: true));
        }

        RemoveWhere(_ready, state, abandoned);
        var retries = _retries.UnorderedItems.ToList();
        _retries.Clear();
        foreach (var (item, at) in retries)
        {
            if (item.State == state)
            {
                abandoned.Add(new Completion(item, null, Abandoned: true));
            }
            else
            {
                _retries.Enqueue(item, at);
            }
        }
    }

    private void StartOrQueue(WorkItem item)
    {
        if (InFlight < maxInFlight && MayStart(item))
        {
            Start(item);
        }
        else
        {
            _ready.Enqueue(item);
        }
    }

    private bool MayStart(WorkItem item) => _leaving.Count == 0 || !_leaving.Contains(item.State);

    private void Start(WorkItem item)
    {
        ValueTask call;
        try
        {
            call = handler.Start(item);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _calls.Add(item, ValueTask.FromException(e));
            return;
        }

        _calls.Add(item, call);
    }

    private static void RemoveWhere(Queue<WorkItem> queue, PartitionState state, List<Completion> abandoned)
    {
        var all = queue.ToList();
        queue.Clear();
        foreach (var item in all)
        {
            if (item.State == state)
            {
                abandoned.Add(new Completion(item, null, Abandoned: true));
            }
            else
            {
                queue.Enqueue(item);
            }
        }
    }
}
