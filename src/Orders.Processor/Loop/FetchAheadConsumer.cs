using System.Runtime.ExceptionServices;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Processor.Observability;

namespace Orders.Processor.Loop;

/// <summary>
/// The consumer polled on a thread of its own: librdkafka's consume calls run beside the loop's
/// processing instead of between its records, and the records reach the loop in batches through a
/// bounded hand-over. To the loop it is the consumer it wraps, with the same guarantees:
/// <list type="bullet">
/// <item>Records come in the order the consumer returned them, each once.</item>
/// <item>A rebalance callback runs on the loop's thread, in order after the records handed over
/// before it; the polling thread waits inside the consumer's callback until it has run (librdkafka
/// applies an assignment when the callback returns).</item>
/// <item>Pause, resume and seek take effect for the loop at once, as librdkafka's do: after a pause or
/// a seek, records of the partition handed over before the call are not returned (librdkafka drops
/// what it fetched before them; a resume drops nothing). The polling thread makes the calls, in
/// order, between two polls, and hands over a marker after a pause or a seek; until the marker comes,
/// the loop drops the partition's records. A record returned by a poll that straddled the call cannot be told from a newer one, so
/// the call is never made during a poll. Inside a rebalance callback the calls are made at once
/// (the polling thread waits in the callback, not in a poll).</item>
/// <item>The hand-over is bounded (<c>Processor:FetchAhead</c> records): when it is full the polling
/// thread stops polling, so <c>max.poll.interval.ms</c> still catches a loop that is stuck.</item>
/// </list>
/// The statistics and error callbacks run on the polling thread (they are thread-safe). Closing stops
/// the polling first; records fetched ahead are dropped (they were never stored, so they are read
/// again by the partitions' next owner).
/// </summary>
public sealed class FetchAheadConsumer : IConsumerPort, IDisposable
{
    /// <summary>Records per batch handed over: the hand-over's cost is paid per batch.</summary>
    public const int BatchSize = 256;

    /// <summary>How long a poll waits when nothing is fetched: the longest a pause, resume or seek waits for the polling thread.</summary>
    public static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(10);

    private readonly IConsumerPort _inner;
    private readonly int _maxBatches;
    private readonly TimeSpan _stopTimeout;
    private readonly ILogger _logger;

    // Shared between the two threads, under _gate.
    private readonly Lock _stopLock = new();

    // A stop found the polling thread in its poll past the bound (under _stopLock).
    private bool _stuck;
    private readonly object _gate = new();
    private readonly Queue<Batch> _ready = new();
    private readonly Stack<Batch> _free = new();
    private readonly Queue<Command> _commands = new();
    private volatile bool _stopping;
    private volatile int _queuedCommands;
    private bool _fetcherEnded;
    private bool _waitingForRoom;
    private bool _loopWaiting;

    // The polling thread's.
    private Batch _filling = new();

    // The loop's (or, once it has stopped, the closing thread's).
    private readonly Dictionary<TopicPartition, int> _unsettled = [];
    private int _unsettledTotal;
    private Batch? _current;
    private int _index;
    private bool _inCallback;
    private bool _stopped;
    private IRebalanceListener? _listener;
    private Thread? _thread;

    /// <param name="inner">The real consumer.</param>
    /// <param name="fetchAhead">The most records fetched ahead of the loop (rounded up to whole batches).</param>
    /// <param name="stopTimeout">How long closing waits for the polling thread to leave its poll.</param>
    public FetchAheadConsumer(IConsumerPort inner, int fetchAhead, TimeSpan stopTimeout, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fetchAhead, 1);
        _inner = inner;
        _maxBatches = (fetchAhead + BatchSize - 1) / BatchSize;
        _stopTimeout = stopTimeout;
        _logger = logger;
    }

    private enum RebalanceKind
    {
        Assigned,
        Revoked,
        Lost,
    }

    private enum CommandKind
    {
        Pause,
        Resume,
        Seek,
    }

    public IReadOnlyList<TopicPartition> Assignment => _inner.Assignment;

    /// <summary>For tests: the polling thread waits for the loop to take a batch.</summary>
    internal bool WaitingForRoom
    {
        get
        {
            lock (_gate)
            {
                return _waitingForRoom;
            }
        }
    }

    /// <summary>For tests: the loop waits in <see cref="Consume"/> for a batch.</summary>
    internal bool LoopWaiting
    {
        get
        {
            lock (_gate)
            {
                return _loopWaiting;
            }
        }
    }

    /// <summary>For tests: the polling thread has ended.</summary>
    internal bool FetcherEnded
    {
        get
        {
            lock (_gate)
            {
                return _fetcherEnded;
            }
        }
    }

    public void Subscribe(string topic, IRebalanceListener listener)
    {
        if (_thread is not null)
        {
            throw new InvalidOperationException("Subscribed already.");
        }

        _listener = listener;
        _inner.Subscribe(topic, new Relay(this));
        _thread = new Thread(Fetch) { IsBackground = true, Name = "orders fetch-ahead" };
        _thread.Start();
    }

    /// <summary>
    /// Whether the record the last <see cref="Consume"/> returned was in hand already: handed over
    /// before the call, so that the call waited for nothing (false when it waited, or polled the
    /// consumer itself).
    /// </summary>
    public bool TookInHand { get; private set; }

    public ConsumeResult<byte[]?, byte[]?>? Consume(TimeSpan timeout)
    {
        TookInHand = false;
        if (_thread is null || _stopped)
        {
            return _inner.Consume(timeout);
        }

        // Read only when the loop has to wait: a record from the batch in hand reads no clock.
        var deadline = -1L;
        while (true)
        {
            if (_current is { } batch)
            {
                while (_index < batch.Count)
                {
                    var item = batch.Items[_index++];
                    if (item.Record is { } record)
                    {
                        if (_unsettledTotal > 0 && Unsettled(record))
                        {
                            continue;
                        }

                        TookInHand = deadline < 0;
                        return record;
                    }

                    if (Handle(item.Signal!))
                    {
                        // A rebalance callback ran: back to the loop, which applies what it asked before the next poll.
                        return null;
                    }
                }

                Recycle(batch);
            }

            lock (_gate)
            {
                while (_ready.Count == 0)
                {
                    if (deadline < 0)
                    {
                        deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
                    }

                    _loopWaiting = true;
                    var pulsed = WaitLocked(deadline);
                    _loopWaiting = false;
                    if (!pulsed && _ready.Count == 0)
                    {
                        return null;
                    }
                }

                (_current, _index) = (_ready.Dequeue(), 0);
                Monitor.PulseAll(_gate);
            }
        }
    }

    public void Pause(IEnumerable<TopicPartition> partitions) => Ask(CommandKind.Pause, [.. partitions], Offset.Unset);

    public void Resume(IEnumerable<TopicPartition> partitions) => Ask(CommandKind.Resume, [.. partitions], Offset.Unset);

    public void Seek(TopicPartitionOffset offset) => Ask(CommandKind.Seek, [offset.TopicPartition], offset.Offset);

    public void StoreOffset(TopicPartitionOffset offset) => _inner.StoreOffset(offset);

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition partition, TimeSpan timeout) => _inner.QueryWatermarkOffsets(partition, timeout);

    /// <summary>
    /// Stops polling ahead, then closes the consumer. A rebalance callback the polling thread was
    /// waiting in runs here, as librdkafka's close runs its own revoke on the closing thread; an
    /// assignment is then answered without the listener (the run is ending, the close revokes it).
    /// </summary>
    public void Close()
    {
        if (TryStop(runCallbacks: true))
        {
            _inner.Close();
        }
    }

    /// <summary>Stops polling ahead if the loop did not close (callbacks answered without the listener).</summary>
    public void Dispose() => TryStop(runCallbacks: false);

    /// <returns>Whether the polling thread has ended, so that the consumer may be closed or destroyed.</returns>
    public bool TryStop(bool runCallbacks = false)
    {
        if (!_stopLock.TryEnter(_stopTimeout))
        {
            return false;
        }

        try
        {
            if (_thread is null || _stopped)
            {
                return true;
            }

            if (_stuck && !FetcherEnded)
            {
                // A stop already waited its bound for the polling thread (the close's): a second wait (the session's
                // end) would add the bound again to a stop the CLI gives 30 s in all. The thread is left to the process's end.
                return false;
            }

            _stopping = true;
            lock (_gate)
            {
                Monitor.PulseAll(_gate);
            }

            var deadline = Environment.TickCount64 + (long)_stopTimeout.TotalMilliseconds;
            while (true)
            {
                if (_current is { } batch)
                {
                    for (; _index < batch.Count; _index++)
                    {
                        if (batch.Items[_index].Signal is Rebalance rebalance)
                        {
                            Answer(rebalance, runCallbacks);
                        }
                    }

                    Recycle(batch);
                }

                lock (_gate)
                {
                    while (_ready.Count == 0 && !_fetcherEnded)
                    {
                        if (!WaitLocked(deadline) && _ready.Count == 0 && !_fetcherEnded)
                        {
                            Log.FetchAheadStuck(_logger, _stopTimeout.TotalSeconds);
                            _stuck = true;
                            return false;
                        }
                    }

                    if (_ready.Count == 0)
                    {
                        break;
                    }

                    (_current, _index) = (_ready.Dequeue(), 0);
                }
            }

            _thread.Join();
            _stopped = true;
            return true;
        }
        finally
        {
            _stopLock.Exit();
        }
    }

    /// <summary>On the loop's thread: a marker, a failure or a rebalance taken from the hand-over.</summary>
    /// <returns>Whether a rebalance callback ran.</returns>
    private bool Handle(Signal signal)
    {
        switch (signal)
        {
            case Settled settled:
                Settle(settled.Partitions);
                return false;
            case Failed failed:
                ExceptionDispatchInfo.Throw(failed.Error);
                return false;
            default:
                var rebalance = (Rebalance)signal;
                Answer(rebalance, runCallbacks: true);
                if (rebalance.Error is { } error)
                {
                    ExceptionDispatchInfo.Throw(error);
                }

                return true;
        }
    }

    /// <summary>
    /// Runs a rebalance callback for the polling thread that waits in it: first what the loop asked
    /// before it and the polling thread has not done yet (the partitions are still assigned), then the
    /// listener, with what it asks done at once.
    /// </summary>
    private void Answer(Rebalance rebalance, bool runCallbacks)
    {
        try
        {
            RunCommandsHere();
            if (!runCallbacks || (_stopping && rebalance.Kind == RebalanceKind.Assigned))
            {
                rebalance.Offsets = [.. rebalance.Partitions.Select(p => new TopicPartitionOffset(p, Offset.Unset))];
                return;
            }

            _inCallback = true;
            rebalance.Offsets = Call(_listener!, rebalance.Kind, rebalance.Partitions);
        }
        catch (Exception e)
        {
            rebalance.Error = e;
            if (_stopping)
            {
                Log.CallbackFailedWhileClosing(_logger, e.Message);
            }
        }
        finally
        {
            _inCallback = false;
            lock (_gate)
            {
                rebalance.Done = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private static List<TopicPartitionOffset> Call(IRebalanceListener listener, RebalanceKind kind, IReadOnlyList<TopicPartition> partitions)
    {
        switch (kind)
        {
            case RebalanceKind.Assigned:
                // Enumerated here, on this thread: the client enumerates what it gets more than once.
                return [.. listener.OnAssigned(partitions)];
            case RebalanceKind.Revoked:
                listener.OnRevoked(partitions);
                return [];
            default:
                listener.OnLost(partitions);
                return [];
        }
    }

    private void Ask(CommandKind kind, TopicPartition[] partitions, Offset offset)
    {
        if (_thread is null || _stopped || _stopping || _inCallback)
        {
            // Nothing polls beside the caller (or the poller waits in a callback): done at once.
            Execute(new Command(kind, partitions, offset));
            return;
        }

        var command = new Command(kind, partitions, offset);
        if (command.Drops)
        {
            foreach (var partition in partitions)
            {
                _unsettled[partition] = _unsettled.GetValueOrDefault(partition) + 1;
                _unsettledTotal++;
            }
        }

        lock (_gate)
        {
            _commands.Enqueue(command);
            _queuedCommands = _commands.Count;
            Monitor.PulseAll(_gate);
        }
    }

    private void Execute(Command command)
    {
        switch (command.Kind)
        {
            case CommandKind.Pause:
                _inner.Pause(command.Partitions);
                break;
            case CommandKind.Resume:
                _inner.Resume(command.Partitions);
                break;
            default:
                _inner.Seek(new TopicPartitionOffset(command.Partitions[0], command.Offset));
                break;
        }
    }

    /// <summary>On the loop's thread, while the polling thread waits in a callback: the commands it has not done, done here.</summary>
    private void RunCommandsHere()
    {
        foreach (var command in TakeCommands())
        {
            if (command.Drops)
            {
                Settle(command.Partitions);
            }

            Execute(command);
        }
    }

    private List<Command> TakeCommands()
    {
        lock (_gate)
        {
            List<Command> commands = [.. _commands];
            _commands.Clear();
            _queuedCommands = 0;
            return commands;
        }
    }

    private void Settle(TopicPartition[] partitions)
    {
        foreach (var partition in partitions)
        {
            if (_unsettled.TryGetValue(partition, out var count))
            {
                _unsettledTotal--;
                if (count > 1)
                {
                    _unsettled[partition] = count - 1;
                }
                else
                {
                    _unsettled.Remove(partition);
                }
            }
        }
    }

    /// <summary>Under the gate: waits to be pulsed until <paramref name="deadline"/> (<see cref="Environment.TickCount64"/>).</summary>
    /// <returns>False when the deadline passed first.</returns>
    private bool WaitLocked(long deadline)
    {
        var remaining = deadline - Environment.TickCount64;
        return remaining > 0 && Monitor.Wait(_gate, (int)Math.Min(remaining, int.MaxValue));
    }

    private bool Unsettled(ConsumeResult<byte[]?, byte[]?> record) => _unsettled.ContainsKey(record.TopicPartition);

    private void Recycle(Batch batch)
    {
        batch.Clear();
        _current = null;
        lock (_gate)
        {
            _free.Push(batch);
        }
    }

    /// <summary>The polling thread: poll, hand over by the batch, do what the loop asked between two polls.</summary>
    private void Fetch()
    {
        try
        {
            var drained = false;
            while (!_stopping)
            {
                if (_queuedCommands > 0)
                {
                    RunCommands();
                }

                if ((_filling.Count >= BatchSize || (drained && _filling.Count > 0)) && !HandOver(force: false))
                {
                    // Woken before there was room: a command to do first, or the end.
                    continue;
                }

                drained = false;
                ConsumeResult<byte[]?, byte[]?>? record;
                try
                {
                    // Nothing waiting to be handed over: wait for a record; else take what is there and hand over when nothing is.
                    record = _inner.Consume(_filling.Count > 0 ? TimeSpan.Zero : PollTimeout);
                }
                catch (ConsumeException e)
                {
                    _filling.Add(new Item(null, new Failed(e)));
                    drained = true;
                    continue;
                }

                if (record is null)
                {
                    drained = true;
                    continue;
                }

                _filling.Add(new Item(record, null));
            }
        }
        catch (Exception e)
        {
            // Anything else ends the run, as it would if the loop had polled: a callback's own error the client
            // throws again, the consumer gone. The loop throws it when it comes to it.
            _filling.Add(new Item(null, new Failed(e)));
            HandOver(force: true);
        }
        finally
        {
            lock (_gate)
            {
                _fetcherEnded = true;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>On the polling thread, between two polls: the loop's pauses, resumes and seeks, each followed by its marker.</summary>
    private void RunCommands()
    {
        foreach (var command in TakeCommands())
        {
            try
            {
                Execute(command);
            }
            catch (KafkaException e)
            {
                // As if the loop's own call had thrown (it ends the run): the loop throws it when it comes to it.
                _filling.Add(new Item(null, new Failed(e)));
            }

            if (command.Drops)
            {
                _filling.Add(new Item(null, new Settled(command.Partitions)));
            }
        }
    }

    /// <returns>False when, before there was room, a command came or the run is ending (never when forced).</returns>
    private bool HandOver(bool force)
    {
        lock (_gate)
        {
            while (!force && _ready.Count >= _maxBatches && !_stopping && _commands.Count == 0)
            {
                _waitingForRoom = true;
                Monitor.Wait(_gate);
                _waitingForRoom = false;
            }

            if (!force && _ready.Count >= _maxBatches)
            {
                return false;
            }

            _ready.Enqueue(_filling);
            _filling = _free.Count > 0 ? _free.Pop() : new Batch();
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>On the polling thread, inside the consumer's callback: hands the callback to the loop and waits for its answer.</summary>
    private List<TopicPartitionOffset> OnCallback(RebalanceKind kind, IReadOnlyList<TopicPartition> partitions)
    {
        if (Thread.CurrentThread != _thread)
        {
            // The consumer's close (on the closing thread, after the polling stopped): as without fetching ahead.
            return Call(_listener!, kind, partitions);
        }

        var rebalance = new Rebalance(kind, partitions);
        _filling.Add(new Item(null, rebalance));
        HandOver(force: true);
        lock (_gate)
        {
            while (!rebalance.Done)
            {
                Monitor.Wait(_gate);
            }
        }

        if (rebalance.Error is { } error)
        {
            // The client undoes the assignment and throws it again from the poll, as when the loop polled.
            ExceptionDispatchInfo.Throw(error);
        }

        return rebalance.Offsets!;
    }

    private readonly record struct Item(ConsumeResult<byte[]?, byte[]?>? Record, Signal? Signal);

    private sealed record Command(CommandKind Kind, TopicPartition[] Partitions, Offset Offset)
    {
        /// <summary>
        /// Whether librdkafka drops what it fetched of the partitions before the call: a pause and a seek do
        /// (a new version barrier); a resume does not, since a paused partition has nothing fetched
        /// after its pause, and one that is not paused is not touched (its fetching goes on).
        /// </summary>
        public bool Drops => Kind != CommandKind.Resume;
    }

    private abstract class Signal;

    /// <summary>The loop's command for these partitions was done: their records from here on are newer than it.</summary>
    private sealed class Settled(TopicPartition[] partitions) : Signal
    {
        public TopicPartition[] Partitions { get; } = partitions;
    }

    private sealed class Failed(Exception error) : Signal
    {
        public Exception Error { get; } = error;
    }

    private sealed class Rebalance(RebalanceKind kind, IReadOnlyList<TopicPartition> partitions) : Signal
    {
        public RebalanceKind Kind { get; } = kind;

        public IReadOnlyList<TopicPartition> Partitions { get; } = partitions;

        public List<TopicPartitionOffset>? Offsets { get; set; }

        public Exception? Error { get; set; }

        /// <summary>Under the gate.</summary>
        public bool Done { get; set; }
    }

    private sealed class Batch
    {
        public Item[] Items { get; private set; } = new Item[BatchSize];

        public int Count { get; private set; }

        public void Add(Item item)
        {
            if (Count == Items.Length)
            {
                var items = Items;
                Array.Resize(ref items, items.Length * 2);
                Items = items;
            }

            Items[Count++] = item;
        }

        public void Clear()
        {
            Array.Clear(Items, 0, Count);
            Count = 0;
        }
    }

    private sealed class Relay(FetchAheadConsumer owner) : IRebalanceListener
    {
        public IEnumerable<TopicPartitionOffset> OnAssigned(IReadOnlyList<TopicPartition> partitions) => owner.OnCallback(RebalanceKind.Assigned, partitions);

        public void OnRevoked(IReadOnlyList<TopicPartition> partitions) => owner.OnCallback(RebalanceKind.Revoked, partitions);

        public void OnLost(IReadOnlyList<TopicPartition> partitions) => owner.OnCallback(RebalanceKind.Lost, partitions);
    }
}
