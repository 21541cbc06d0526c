using System.Collections.Concurrent;

namespace Orders.Processor.Loop;

/// <summary>
/// Keeps the consume loop on the worker's own thread across its awaits. Without it, the loop's
/// first await that completes later (the host's start, the registry fetching a schema) resumes it
/// on a pool thread, which it then holds for good, blocked waiting for records: one pool thread
/// fewer for everything else in the process (Kestrel, the registry client, the local stack's
/// relays in <c>orders demo</c>), and with the CPU busy the pool adds none.
/// <para>
/// Continuations posted here run on the loop's thread: while the loop awaits, at once; while it
/// works, at its next turn (<see cref="RunPosted"/>), so work the loop started and no longer awaits
/// completes between polls, never inside one (nor inside a rebalance callback, which may wait for
/// it: what the loop polls for from there, the checkpoint schema's registration, starts without
/// this context). Handlers start without it too (<see cref="Suppressed"/>): they may be slow and
/// run concurrently, wherever their awaits end.
/// </para>
/// </summary>
internal sealed class LoopThread : SynchronizationContext, IDisposable
{
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _posted = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Lock _gate = new();
    private bool _ended;

    private LoopThread()
    {
    }

    /// <summary>Runs <paramref name="body"/> on the calling thread, with every continuation posted to it, until its task ends.</summary>
    public static void Run(Func<Task> body) => Run(async () =>
    {
        await body();
        return true;
    });

    /// <inheritdoc cref="Run(Func{Task})"/>
    public static T Run<T>(Func<Task<T>> body)
    {
        var previous = Current;
        using var context = new LoopThread();
        SetSynchronizationContext(context);
        try
        {
            var task = body();
            task.ContinueWith(_ => context._signal.Release(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            while (true)
            {
                context.RunPending();
                if (task.IsCompleted)
                {
                    break;
                }

                context._signal.Wait();
            }

            lock (context._gate)
            {
                context._ended = true;
            }

            // Posted before the end, not yet run: from now on everything goes to the pool.
            context.RunPending();
            return task.GetAwaiter().GetResult();
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }

    /// <summary>On the loop's thread: runs what was posted since the last turn. Elsewhere (the unit tests' loops): nothing.</summary>
    public static void RunPosted()
    {
        if (Current is LoopThread context)
        {
            context.RunPending();
        }
    }

    /// <summary>
    /// Waits for an asynchronous call on the loop's thread (a rebalance callback must finish inside
    /// the poll), with no context inside it: its continuations run on the pool, not posted to this
    /// thread while it waits, which would never run them.
    /// </summary>
    public static T Wait<T>(Func<ValueTask<T>> call)
    {
        using var _ = Suppressed();
        return call().AsTask().GetAwaiter().GetResult();
    }

    /// <summary>No synchronization context until disposed: what starts meanwhile continues on the pool.</summary>
    public static ContextScope Suppressed()
    {
        var previous = Current;
        if (previous is not null)
        {
            SetSynchronizationContext(null);
        }

        return new ContextScope(previous);
    }

    public override void Post(SendOrPostCallback d, object? state)
    {
        lock (_gate)
        {
            if (!_ended)
            {
                _posted.Enqueue((d, state));
                _signal.Release();
                return;
            }
        }

        // The loop has ended: whatever still comes back runs on the pool.
        ThreadPool.UnsafeQueueUserWorkItem(s => d(s), state, preferLocal: false);
    }

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("The consume loop's thread takes posted work only.");

    public override SynchronizationContext CreateCopy() => this;

    public void Dispose() => _signal.Dispose();

    private void RunPending()
    {
        while (_posted.TryDequeue(out var posted))
        {
            posted.Callback(posted.State);
        }
    }

    /// <summary>Restores the context that <see cref="Suppressed"/> took away.</summary>
    public readonly struct ContextScope(SynchronizationContext? previous) : IDisposable
    {
        public void Dispose()
        {
            if (previous is not null)
            {
                SetSynchronizationContext(previous);
            }
        }
    }
}
