namespace Orders.Processor.Observability;

/// <summary>
/// Carries per-record histogram measurements from the loop's thread to the thread pool, where
/// they are recorded. Recording one into OpenTelemetry with its labels costs ~115 ns (the SDK looks
/// the label set up on every call); the two recorded per record took ~15% of a drain's loop thread.
/// Here the loop writes each measurement into a ring (a few ns), and a pool thread records it once
/// <see cref="MeasurementRelay.DrainAt"/> are waiting (8,192: waking a pool thread every 1,024
/// measured slower on two cores, for the wake-ups and the idle pool threads' spinning; docs/BENCHMARKS.md).
/// <para>
/// Every measurement is recorded exactly once; none is dropped or merged. With the ring full, the
/// writer records inline, as before. What is still in the ring is recorded by <see cref="Drain"/>,
/// which a collection calls first (<see cref="ProcessorMetrics"/>'s observable callbacks run
/// before the SDK reads its histograms), so what a scrape shows includes every record ended before it.
/// </para>
/// <para>
/// One writer (the loop's thread): <see cref="Write"/> takes no lock. Drains are serialised by a lock
/// the writer never takes.
/// </para>
/// </summary>
internal sealed class MeasurementRelay<T> : IThreadPoolWorkItem
    where T : struct
{
    private readonly T[] _ring;
    private readonly int _mask;
    private readonly Action<T> _record;
    private readonly Lock _draining = new();

    // Written by the writer only.
    private long _head;

    // Written under _draining only.
    private long _tail;

    // 1 while a drain is queued or running on the pool.
    private int _queued;

    /// <param name="record">Records one measurement.</param>
    /// <param name="capacity">A power of two, at least <see cref="MeasurementRelay.DrainAt"/>.</param>
    public MeasurementRelay(Action<T> record, int capacity = 65_536)
    {
        if (capacity < MeasurementRelay.DrainAt || (capacity & (capacity - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(capacity), capacity, $"must be a power of two of at least {MeasurementRelay.DrainAt}");
        }

        _record = record;
        _ring = new T[capacity];
        _mask = capacity - 1;
    }

    /// <summary>Measurements written and not yet recorded.</summary>
    public long Pending => Volatile.Read(ref _head) - Volatile.Read(ref _tail);

    /// <summary>Called by the one writer: queues a measurement, or records it at once if the ring is full.</summary>
    public void Write(in T measurement)
    {
        var head = _head;
        var waiting = head - Volatile.Read(ref _tail);
        if (waiting >= _ring.Length)
        {
            // The pool has fallen behind by a whole ring: the writer pays as it did without the relay.
            _record(measurement);
            return;
        }

        _ring[head & _mask] = measurement;
        Volatile.Write(ref _head, head + 1);
        // An exchange, not a read first: it orders the write of _head before it, so that a drain
        // ending now either sees this measurement or leaves the flag for this writer to take.
        if (waiting + 1 >= MeasurementRelay.DrainAt && Interlocked.Exchange(ref _queued, 1) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    /// <summary>Records everything written so far (on any thread; drains run one at a time).</summary>
    public void Drain()
    {
        if (Pending == 0)
        {
            return;
        }

        lock (_draining)
        {
            var tail = _tail;
            var head = Volatile.Read(ref _head);
            while (tail < head)
            {
                _record(_ring[tail & _mask]);
                tail++;
                if ((tail & (MeasurementRelay.DrainAt - 1)) == 0)
                {
                    // Room for the writer as the drain goes, not only at its end.
                    Volatile.Write(ref _tail, tail);
                }
            }

            Volatile.Write(ref _tail, tail);
        }
    }

    void IThreadPoolWorkItem.Execute()
    {
        do
        {
            Drain();
            Interlocked.Exchange(ref _queued, 0);
        }
        // A writer that found this drain queued asked for none: if it wrote DrainAt or more meanwhile,
        // they are drained here; fewer wait for its next writes or the next collection.
        while (Pending >= MeasurementRelay.DrainAt && Interlocked.Exchange(ref _queued, 1) == 0);
    }
}

/// <summary>The relay's constants, the same for every kind of measurement.</summary>
internal static class MeasurementRelay
{
    /// <summary>How many measurements wait before the writer asks the pool to record them.</summary>
    public const int DrainAt = 8192;
}
