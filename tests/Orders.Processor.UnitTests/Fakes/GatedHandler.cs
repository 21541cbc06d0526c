using System.Collections.Concurrent;
using Orders.Contracts;
using Orders.Processor.Records;

namespace Orders.Processor.UnitTests.Fakes;

/// <summary>
/// A handler whose calls end when the test says so (<see cref="Release"/>), or at once for the
/// orders <see cref="Immediate"/> names; it records the order of calls and how many ran at once.
/// </summary>
public sealed class GatedHandler : IOrderHandler
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly Lock _lock = new();
    private readonly List<string> _started = [];
    private int _running;

    /// <summary>Orders whose calls complete at once.</summary>
    public Func<string, bool> Immediate { get; set; } = _ => false;

    public IReadOnlyList<string> Started
    {
        get
        {
            lock (_lock)
            {
                return [.. _started];
            }
        }
    }

    public int Running => Volatile.Read(ref _running);

    public int MaxRunning { get; private set; }

    public int Cancelled { get; private set; }

    public bool IsRunning(string orderId) => _gates.TryGetValue(orderId, out var gate) && !gate.Task.IsCompleted;

    public ValueTask HandleAsync(Order order, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _started.Add(order.OrderId);
            MaxRunning = Math.Max(MaxRunning, Interlocked.Increment(ref _running));
        }

        if (Immediate(order.OrderId))
        {
            Interlocked.Decrement(ref _running);
            return ValueTask.CompletedTask;
        }

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _gates[order.OrderId] = gate;
        cancellationToken.Register(() =>
        {
            if (gate.TrySetCanceled(cancellationToken))
            {
                Cancelled++;
            }
        });
        return new ValueTask(gate.Task.ContinueWith(
            done =>
            {
                Interlocked.Decrement(ref _running);
                done.GetAwaiter().GetResult();
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default));
    }

    /// <summary>Ends the call of this order: successfully, or with <paramref name="failure"/>.</summary>
    public void Release(string orderId, Exception? failure = null)
    {
        var gate = _gates[orderId];
        if (failure is null)
        {
            gate.TrySetResult();
        }
        else
        {
            gate.TrySetException(failure);
        }
    }

    public void ReleaseAll()
    {
        foreach (var id in _gates.Keys)
        {
            Release(id);
        }
    }
}
