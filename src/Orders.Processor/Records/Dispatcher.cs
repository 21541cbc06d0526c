using Confluent.Kafka;
using Orders.Contracts;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// Concurrent handling in the model of Confluent's Parallel Consumer: up to <c>maxInFlight</c>
/// handler calls at once across the partitions, records of one key in offset order (or one per
/// partition, or none ordered: <see cref="Ordering"/>), and a failing record waiting out its backoff
/// alone: only later records of its key wait behind it. Everything here runs on the loop's thread;
/// handlers complete on any thread, and their completions queue up for <see cref="Pump"/>.
/// </summary>
public sealed class Dispatcher(IWorkOutcomes outcomes, int maxInFlight, Ordering ordering, TimeProvider time)
{
    private readonly HandlerCalls _calls = new();
    private readonly Queue<WorkItem> _ready = new();
    private readonly PriorityQueue<WorkItem, DateTimeOffset> _retries = new();
    private readonly KeyLanes _lanes = new(ordering);

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

    /// <summary>Applies handler completions, starts retries that are due and records that were queued. Called by the loop.</summary>
    /// <returns>How long until the next retry is due, or null if none waits.</returns>
    public TimeSpan? Pump()
    {
        while (_calls.TryTakeCompleted(out var item, out var error))
        {
            Finished(item, error);
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
        while (_calls.CountOf(states) > 0 && time.GetUtcNow() < deadline)
        {
            _calls.WaitForOne(TimeSpan.FromMilliseconds(10));
            Pump();
        }

        return _calls.CountOf(states) == 0;
    }

    /// <summary>The partition left this processor: what waits for it is dropped (its next owner processes it), what is in flight is ignored when it ends.</summary>
    public void Forget(PartitionState state)
    {
        foreach (var waiting in _lanes.Forget(state))
        {
            outcomes.Abandoned(waiting);
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
            _calls.Add(item, ValueTask.FromException(e));
            return;
        }

        _calls.Add(item, call);
    }

    private void Finished(WorkItem item, Exception? error)
    {
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
        if (_lanes.Leave(item) is { } next)
        {
            StartOrQueue(next);
        }
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
}
