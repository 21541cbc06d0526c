using System.Collections.Concurrent;
using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// The handler calls under way for the <see cref="Dispatcher"/>. A call ends on any thread and
/// queues its completion; the loop takes the completions on its own thread, so what follows a
/// handler (the aggregate, the offsets) has one writer and no lock.
/// </summary>
internal sealed class HandlerCalls
{
    private readonly ConcurrentQueue<(WorkItem Item, Exception? Error)> _completions = new();
    private readonly HashSet<WorkItem> _running = new(ReferenceEqualityComparer.Instance);
    private readonly ManualResetEventSlim _completed = new();

    /// <summary>Calls started and not yet taken back (completed or not).</summary>
    public int Count => _running.Count;

    /// <summary>Tracks the call started for <paramref name="item"/>; one that already ended is queued at once.</summary>
    public void Add(WorkItem item, ValueTask call)
    {
        _running.Add(item);
        if (call.IsCompleted)
        {
            _completions.Enqueue((item, Fault(call)));
            return;
        }

        _ = AwaitAsync(item, call);
    }

    /// <summary>The next call that ended, with its error (null: it succeeded); it no longer counts.</summary>
    public bool TryTakeCompleted(out WorkItem item, out Exception? error)
    {
        if (!_completions.TryDequeue(out var completion))
        {
            (item, error) = (null!, null);
            return false;
        }

        _running.Remove(completion.Item);
        (item, error) = completion;
        return true;
    }

    /// <summary>Calls not yet taken back for records of these partitions.</summary>
    public int CountOf(IReadOnlyCollection<PartitionState> states) => _running.Count(i => states.Contains(i.State));

    /// <summary>Blocks until a call ends or the timeout passes; at once when one ended and was not taken back.</summary>
    public void WaitForOne(TimeSpan timeout)
    {
        // Reset before looking, so a call ending after the look sets it again. (A count per call, which
        // nothing took while the loop ran, let a settle's waits return at once: it spun for its timeout.)
        _completed.Reset();
        if (_completions.IsEmpty)
        {
            _completed.Wait(timeout);
        }
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
        _completed.Set();
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
}
