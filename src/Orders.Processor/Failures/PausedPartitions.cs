using Confluent.Kafka;

namespace Orders.Processor.Failures;

/// <summary>
/// The partitions paused for a retry: which record each waits to retry, how often it failed, and
/// when it may resume, by the injected clock. The consume loop asks it which partitions are due
/// and how long it may block until the next one is.
/// </summary>
public sealed class PausedPartitions(TimeProvider time, TimeSpan maxWait)
{
    private readonly Dictionary<TopicPartition, Entry> _entries = [];

    /// <summary>Partitions with a record awaiting retry, paused or already resumed.</summary>
    public int Count => _entries.Count;

    /// <summary>The partition has a record awaiting a retry (paused or already resumed).</summary>
    public bool Contains(TopicPartition partition) => _entries.ContainsKey(partition);

    /// <summary>Every partition paused is waiting for the registry (none for a retry of its own).</summary>
    public bool AllWaitForRegistry => _entries.Count > 0 && _entries.Values.All(e => e.RegistryWaits > 0);

    /// <summary>Failures so far of the record at this position: zero for a record not seen failing before.</summary>
    public (int Failures, int RegistryWaits) History(TopicPartitionOffset position) =>
        _entries.TryGetValue(position.TopicPartition, out var entry) && entry.Offset == position.Offset
            ? (entry.Failures, entry.RegistryWaits)
            : (0, 0);

    /// <summary>Records that the partition is paused on this record until <paramref name="delay"/> has passed.</summary>
    public void Pause(TopicPartitionOffset position, int failures, int registryWaits, TimeSpan delay) =>
        _entries[position.TopicPartition] = new Entry(position.Offset, failures, registryWaits, time.GetUtcNow() + delay);

    /// <summary>The record was processed or dead-lettered: nothing waits on its partition.</summary>
    public void Clear(TopicPartition partition) => _entries.Remove(partition);

    /// <summary>The partitions left this consumer (revoked or lost).</summary>
    public void Forget(IEnumerable<TopicPartition> partitions)
    {
        foreach (var partition in partitions)
        {
            _entries.Remove(partition);
        }
    }

    /// <summary>Marks due partitions as resumed and returns them.</summary>
    /// <param name="wait">How long the caller may block before the next partition is due (at least 1 ms).</param>
    /// <remarks>Called before every poll: with nothing paused it returns at once and allocates nothing.</remarks>
    public IReadOnlyList<TopicPartition> TakeDue(out TimeSpan wait)
    {
        wait = maxWait;
        if (_entries.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow();
        List<TopicPartition>? due = null;
        foreach (var (partition, entry) in _entries)
        {
            if (entry.Resumed)
            {
                continue;
            }

            if (entry.ResumeAt <= now)
            {
                entry.Resumed = true;
                (due ??= []).Add(partition);
            }
            else if (entry.ResumeAt - now < wait)
            {
                wait = entry.ResumeAt - now;
            }
        }

        if (wait < TimeSpan.FromMilliseconds(1))
        {
            wait = TimeSpan.FromMilliseconds(1);
        }

        return due ?? (IReadOnlyList<TopicPartition>)[];
    }

    private sealed class Entry(Offset offset, int failures, int registryWaits, DateTimeOffset resumeAt)
    {
        public Offset Offset { get; } = offset;
        public int Failures { get; } = failures;
        public int RegistryWaits { get; } = registryWaits;
        public DateTimeOffset ResumeAt { get; } = resumeAt;
        public bool Resumed { get; set; }
    }
}
