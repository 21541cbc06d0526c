using Orders.Processor.Partitions;

namespace Orders.Processor.Records;

/// <summary>
/// The lines the <see cref="Dispatcher"/> keeps records in: per partition and key (or per partition
/// with <see cref="Ordering.Partition"/>), the record going (in flight or waiting out a retry) and
/// those of its key behind it. Records without a key, and every record with
/// <see cref="Ordering.Unordered"/>, line up nowhere. On the loop's thread only.
/// </summary>
internal sealed class KeyLanes(Ordering ordering)
{
    private readonly Dictionary<PartitionState, Lanes> _lanes = [];

    /// <summary>Records waiting for an earlier record of their key.</summary>
    public int Waiting { get; private set; }

    /// <summary>Whether a record of this key is going now, so that a new one would wait.</summary>
    public bool IsBusy(PartitionState state, byte[]? key) => LaneFor(state, key, create: false) is { Busy: true };

    /// <summary>Lines the record up: it goes (and holds its lane) unless one of its key is going and it is not already running.</summary>
    /// <returns>True when it waits behind another; <see cref="Leave"/> of that one hands it on.</returns>
    public bool Enter(WorkItem item, bool running)
    {
        var lane = LaneFor(item.State, item.Record.Message.Key, create: true);
        if (!running && lane is { Busy: true })
        {
            lane.Waiting.Enqueue(item);
            Waiting++;
            return true;
        }

        if (lane is not null)
        {
            lane.Busy = true;
            item.Lane = lane;
        }

        return false;
    }

    /// <summary>The record is done.</summary>
    /// <returns>The next record of its key, which now holds the lane and is to be started; null when none waits.</returns>
    public WorkItem? Leave(WorkItem item)
    {
        if (item.Lane is not { } lane)
        {
            return null;
        }

        if (lane.Waiting.TryDequeue(out var next))
        {
            Waiting--;
            next.Lane = lane;
            return next;
        }

        lane.Busy = false;
        if (_lanes.TryGetValue(item.State, out var lanes))
        {
            lanes.Remove(lane);
        }

        return null;
    }

    /// <summary>The partition left: its lanes are dropped.</summary>
    /// <returns>The records that were waiting in them (their next owner processes them).</returns>
    public List<WorkItem> Forget(PartitionState state)
    {
        if (!_lanes.Remove(state, out var lanes))
        {
            return [];
        }

        var waiting = lanes.All.SelectMany(l => l.Waiting).ToList();
        Waiting -= waiting.Count;
        return waiting;
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
