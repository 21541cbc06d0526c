namespace Orders.Processor.Observability;

/// <summary>A dead-letter decision, as the dashboard shows it.</summary>
public sealed record RecentDeadLetter(
    DateTimeOffset At, string Topic, int Partition, long Offset, string Reason, string ErrorType, string Error);

/// <summary>
/// The newest few dead-letter decisions of this run, for the dashboard: a bounded ring fed where
/// the processor dead-letters (a rare path), read from anywhere. The dead-letter topic stays the
/// record of all of them (<c>orders dlq list</c>).
/// </summary>
public sealed class RecentDeadLetters(int capacity = RecentDeadLetters.DefaultCapacity)
{
    public const int DefaultCapacity = 5;

    /// <summary>Error messages are cut to this length: they can carry a whole exception chain.</summary>
    public const int MaxErrorLength = 300;

    private readonly RecentDeadLetter[] _ring = new RecentDeadLetter[capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity))];
    private readonly Lock _lock = new();
    private long _added;

    public void Add(DateTimeOffset at, string topic, int partition, long offset, string reason, Exception error)
    {
        var message = error.Message.Length > MaxErrorLength ? string.Concat(error.Message.AsSpan(0, MaxErrorLength - 1), "…") : error.Message;
        var letter = new RecentDeadLetter(at, topic, partition, offset, reason, error.GetType().Name, message);
        lock (_lock)
        {
            _ring[_added % _ring.Length] = letter;
            _added++;
        }
    }

    /// <summary>The newest first.</summary>
    public IReadOnlyList<RecentDeadLetter> Snapshot()
    {
        lock (_lock)
        {
            var count = (int)Math.Min(_added, _ring.Length);
            var letters = new RecentDeadLetter[count];
            for (var i = 0; i < count; i++)
            {
                letters[i] = _ring[(_added - 1 - i) % _ring.Length];
            }

            return letters;
        }
    }
}
