using System.Threading.Channels;
using Orders.Contracts;

namespace Orders.Producer;

/// <summary>One order ready to hand to the client: its key (with what its delivery report needs) and its value in the wire format.</summary>
/// <param name="Order">The order itself, kept only when each order is logged.</param>
internal readonly record struct ReadyOrder(SentOrder Key, byte[] Value, Order? Order)
{
    /// <summary>The generator's next order, made ready.</summary>
    public static ReadyOrder Next(OrderGenerator generator, int schemaId, bool keepOrder)
    {
        var order = generator.Draw();
        return new(
            new SentOrder(order.Id, order.Price, order.Quantity, order.Currency.Value, order.Valid),
            OrderSerializer.ToArray(in order, schemaId),
            keepOrder ? order.ToOrder() : null);
    }
}

/// <summary>
/// Orders generated and serialized ahead, in batches, on a thread of their own, so that the producing
/// thread only hands prebuilt keys and values to the client, as a raw producer loop does: on this
/// machine that thread sets the pace of an unpaced run (librdkafka's produce call is most of its time),
/// and generating and serializing were ~20% of it. At most <see cref="BatchesAhead"/> batches wait, so
/// an order's <c>createdAt</c> is at most a few tens of milliseconds before its send; paced runs
/// generate each order when it is due instead. Stopping drops what was generated and not taken: it
/// was never sent.
/// </summary>
/// <remarks>
/// The generating thread is a thread of its own from start to end. When the queue is full it sleeps
/// (<see cref="Monitor.Wait(object)"/>, which does not spin) until half of it was taken, then fills it
/// again: an asynchronous generator moved to a thread-pool thread at every full queue, and the pool's
/// idle threads spun (<c>sched_yield</c>) between those wake-ups, ~3% of the process's CPU in a
/// profile of <c>orders produce</c> on 2 cores shared with the broker; a semaphore woken for every
/// batch spun as much on its own.
/// </remarks>
internal sealed class OrdersAhead : IAsyncDisposable
{
    public const int BatchSize = 512;
    public const int BatchesAhead = 16;

    // Not SingleReader, whose channel cannot count (Queued); it costs a lock a batch.
    private readonly Channel<ReadyOrder[]> _batches = Channel.CreateUnbounded<ReadyOrder[]>(
        new UnboundedChannelOptions { SingleWriter = true });

    // Batches that may still be made before one is taken (the channel holds at most BatchesAhead), under the
    // gate: an object, not a Lock, for Monitor.Wait and Pulse.
    private readonly object _gate = new();
    private int _free = BatchesAhead;
    private readonly CancellationTokenSource _stop;
    private readonly Task _generating;
    private ReadyOrder[] _current = [];
    private int _next;

    /// <param name="count">How many to generate; null until disposed.</param>
    public OrdersAhead(OrderGenerator generator, int schemaId, long? count, bool keepOrders, CancellationToken cancellationToken)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _generating = Task.Factory.StartNew(
            () => Generate(generator, schemaId, count, keepOrders, _stop.Token),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>Batches made and not yet taken: at most <see cref="BatchesAhead"/>.</summary>
    internal int Queued => _batches.Reader.Count;

    /// <summary>The next order of the batch in hand, without waiting.</summary>
    /// <returns>False when the batch in hand is used up: call <see cref="NextBatchAsync"/>.</returns>
    public bool TryTake(out ReadyOrder order)
    {
        if (_next < _current.Length)
        {
            order = _current[_next++];
            return true;
        }

        order = default;
        return false;
    }

    /// <returns>False when every order was generated and taken (or generation was stopped).</returns>
    public async ValueTask<bool> NextBatchAsync(CancellationToken cancellationToken)
    {
        while (await _batches.Reader.WaitToReadAsync(cancellationToken))
        {
            if (_batches.Reader.TryRead(out var batch))
            {
                (_current, _next) = (batch, 0);
                lock (_gate)
                {
                    if (++_free >= BatchesAhead / 2)
                    {
                        Monitor.Pulse(_gate);
                    }
                }

                return true;
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _generating;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private void Generate(OrderGenerator generator, int schemaId, long? count, bool keepOrders, CancellationToken cancellationToken)
    {
        using var stopped = cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                Monitor.Pulse(_gate);
            }
        });
        try
        {
            for (long made = 0; count is not { } limit || made < limit;)
            {
                lock (_gate)
                {
                    while (_free == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        Monitor.Wait(_gate);
                    }

                    _free--;
                }

                cancellationToken.ThrowIfCancellationRequested();
                var batch = new ReadyOrder[count is { } c ? (int)Math.Min(BatchSize, c - made) : BatchSize];
                for (var i = 0; i < batch.Length; i++)
                {
                    batch[i] = ReadyOrder.Next(generator, schemaId, keepOrders);
                }

                made += batch.Length;
                _batches.Writer.TryWrite(batch);
            }

            _batches.Writer.TryComplete();
        }
        catch (Exception e)
        {
            // A stop ends the reader's wait too; anything else reaches it as the reason.
            _batches.Writer.TryComplete(e is OperationCanceledException ? null : e);
            throw;
        }
    }
}
