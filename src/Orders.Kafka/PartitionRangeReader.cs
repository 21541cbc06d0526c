using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Hosting;

namespace Orders.Kafka;

/// <summary>
/// Reads what partitions hold between a start offset and their end (the high watermark at the
/// time of the call), with a consumer that joins no group and commits nothing. For checkpoints,
/// dead letters and tools: reading must never disturb the processors' group.
/// </summary>
public sealed partial class PartitionRangeReader : IDisposable
{
    private static readonly HashSet<string> GroupSettings =
    [
        "group.id", "group.protocol", "group.instance.id", "group.remote.assignor", "partition.assignment.strategy",
        "session.timeout.ms", "heartbeat.interval.ms", "enable.auto.commit", "auto.commit.interval.ms", "enable.auto.offset.store",
    ];

    private readonly ConsumerConfig _config;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    /// <summary>
    /// Held by a read or watermark query for its whole length, and by <see cref="Dispose"/>: one client,
    /// used by one thread at a time (a restore may read off the thread that disposes it).
    /// </summary>
    private readonly object _inUse = new();
    private IConsumer<byte[]?, byte[]?> _consumer;
    private bool _disposed;

    /// <param name="clientConfig">
    /// Connection settings (bootstrap servers, security) and the group read for (<c>group.id</c>): the
    /// reader's own id is derived from it (<see cref="ReaderGroups.Range"/>); other group settings are dropped.
    /// </param>
    /// <exception cref="ArgumentException">The settings name no group.</exception>
    public PartitionRangeReader(ClientConfig clientConfig, ILogger logger, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        var group = ReaderGroups.GroupOf(clientConfig);
        var settings = clientConfig.Where(p => !GroupSettings.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        var config = new ConsumerConfig(settings)
        {
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            // The mock holds an empty fetch for the whole wait; a reader wants the end fast.
            FetchWaitMaxMs = 10,
        };
        // Never used to join or commit; librdkafka wants a group id for a consumer all the same, and
        // a secured cluster checks it: one of the group's own name, so the group's ACLs can cover it.
        config.GroupId = ReaderGroups.Range(group);
        _config = config;
        _logger = logger;
        _consumer = Build();
    }

    /// <summary>The group id the reader gives librdkafka (never joined): what a secured cluster's ACLs must allow.</summary>
    public string GroupId => _config.GroupId;

    /// <returns>Low and high watermark of the partition.</returns>
    /// <param name="cancellationToken">
    /// Looked at between asks: a cancellable query asks for at most 1 s, then 2 s, then 4 s at a time
    /// (each ask is a new request: a broker slower than one still gets the next, longer one).
    /// </param>
    /// <exception cref="OperationCanceledException">Cancelled before the broker answered.</exception>
    public WatermarkOffsets Watermarks(TopicPartition partition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        lock (_inUse)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return WatermarksOf(partition, timeout, cancellationToken);
        }
    }

    private WatermarkOffsets WatermarksOf(TopicPartition partition, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Deadline(timeout);
        var ask = TimeSpan.FromSeconds(1);
        var moving = FirstLeaderWait;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var remaining = Remaining(deadline);
            var slice = Slice(remaining, ask, cancellationToken);
            try
            {
                return _consumer.QueryWatermarkOffsets(partition, slice);
            }
            catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_TimedOut && slice < remaining)
            {
                // An ask ran out, not the timeout: ask again, for longer, unless cancelled meanwhile.
                ask = ask < LongestAsk ? ask * 2 : LongestAsk;
            }
            catch (KafkaException e) when (IsStaleMetadata(e))
            {
                Renew();
                throw;
            }
            catch (KafkaException e) when (IsLeaderMoving(e) && Remaining(deadline) > moving)
            {
                // The leader moved (a rolling restart, a reassignment): librdkafka refreshes its metadata on
                // such an answer, and the next ask goes to the new leader. Asked again after a short wait.
                WaitBeforeAskingAgain(moving, cancellationToken);
                moving = moving < LongestAsk / 4 ? moving * 2 : LongestAsk / 4;
            }
        }
    }

    /// <summary>
    /// Hands every record from each start offset up to the partition's end, in order per
    /// partition, to <paramref name="onRecord"/>. Starts below the low watermark begin at it.
    /// </summary>
    /// <returns>For each partition, the end read to (its high watermark when the read began).</returns>
    /// <param name="timeout">How long the read may go without progress: a long range read steadily never times out.</param>
    /// <exception cref="TimeoutException">No record arrived for <paramref name="timeout"/> before the ends were reached.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the ends were reached (looked at every 250 ms while no record comes, and between watermark asks).</exception>
    public IReadOnlyDictionary<TopicPartition, long> Read(
        IReadOnlyCollection<TopicPartitionOffset> starts, TimeSpan timeout, Action<ConsumeResult<byte[]?, byte[]?>> onRecord, CancellationToken cancellationToken = default)
    {
        lock (_inUse)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return ReadRanges(starts, timeout, onRecord, cancellationToken);
        }
    }

    private Dictionary<TopicPartition, long> ReadRanges(
        IReadOnlyCollection<TopicPartitionOffset> starts, TimeSpan timeout, Action<ConsumeResult<byte[]?, byte[]?>> onRecord, CancellationToken cancellationToken)
    {
        var deadline = Deadline(timeout);
        var ends = new Dictionary<TopicPartition, long>();
        var pending = new List<TopicPartitionOffset>();
        foreach (var start in starts)
        {
            var watermarks = WatermarksOf(start.TopicPartition, Remaining(deadline), cancellationToken);
            ends[start.TopicPartition] = watermarks.High.Value;
            var from = Math.Max(start.Offset.Value, watermarks.Low.Value);
            if (from < watermarks.High.Value)
            {
                pending.Add(new TopicPartitionOffset(start.TopicPartition, from));
            }
        }

        if (pending.Count == 0)
        {
            return ends;
        }

        var open = pending.Select(p => p.TopicPartition).ToHashSet();
        _consumer.Assign(pending);
        try
        {
            while (open.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var remaining = Remaining(deadline);
                var result = _consumer.Consume(Slice(remaining, CancellationSlice, cancellationToken));
                if (result is null)
                {
                    if (Remaining(deadline) == TimeSpan.Zero)
                    {
                        throw new TimeoutException($"reading {string.Join(", ", open)} made no progress for {timeout.TotalSeconds:0.#} s");
                    }

                    continue;
                }

                if (!open.Contains(result.TopicPartition))
                {
                    continue;
                }

                deadline = Deadline(timeout);
                if (!result.IsPartitionEOF)
                {
                    if (result.Offset.Value >= ends[result.TopicPartition])
                    {
                        open.Remove(result.TopicPartition);
                        continue;
                    }

                    onRecord(result);
                }

                // The end is reached at the watermark, or at EOF where the last offsets hold no record (markers, compaction).
                if (result.IsPartitionEOF || result.Offset.Value + 1 >= ends[result.TopicPartition])
                {
                    open.Remove(result.TopicPartition);
                }
            }
        }
        finally
        {
            _consumer.Unassign();
        }

        return ends;
    }

    /// <summary>
    /// Closes the client, once a read under way on another thread has ended (a cancelled one looks at its
    /// token every 250 ms, and between watermark asks). One that has not ended within <see cref="DisposeWait"/>
    /// keeps the client, which the process's end takes.
    /// </summary>
    public void Dispose()
    {
        if (!Monitor.TryEnter(_inUse, DisposeWait))
        {
            LeftRunning(_logger, GroupId, DisposeWait.TotalSeconds);
            return;
        }

        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _consumer.Close();
            _consumer.Dispose();
        }
        finally
        {
            Monitor.Exit(_inUse);
        }
    }

    /// <summary>
    /// The client's metadata says the partition or topic does not exist. Measured on the local
    /// stack: a reader that first met a topic while its leader's broker was down kept answering
    /// "Unknown partition" for minutes after the broker was back, so a restore never succeeded.
    /// A new client asks afresh; the caller's retry then finds the partition.
    /// </summary>
    private static bool IsStaleMetadata(KafkaException e) =>
        e.Error.Code is ErrorCode.Local_UnknownPartition or ErrorCode.Local_UnknownTopic or ErrorCode.UnknownTopicOrPart;

    /// <summary>
    /// The broker asked is not, or not yet, the partition's leader: it moved, or an election is under
    /// way. librdkafka's ListOffsets handling refreshes the metadata on these without asking again
    /// itself (rd_kafka_handle_ListOffsets), so the query failed where a moment later it succeeds: the
    /// restore of a partition whose checkpoints' leader moved waited its retry delay, at every rolling restart.
    /// </summary>
    private static bool IsLeaderMoving(KafkaException e) =>
        e.Error.Code is ErrorCode.NotLeaderForPartition or ErrorCode.LeaderNotAvailable or ErrorCode.OffsetNotAvailable
            or ErrorCode.ReplicaNotAvailable or ErrorCode.FencedLeaderEpoch or ErrorCode.UnknownLeaderEpoch;

    /// <exception cref="OperationCanceledException">Cancelled meanwhile.</exception>
    private void WaitBeforeAskingAgain(TimeSpan wait, CancellationToken cancellationToken) =>
        Task.Delay(wait, _time, cancellationToken).GetAwaiter().GetResult();

    private void Renew()
    {
        var stale = _consumer;
        _consumer = Build();
        stale.Close();
        stale.Dispose();
    }

    private IConsumer<byte[]?, byte[]?> Build() => new ConsumerBuilder<byte[]?, byte[]?>(_config).LogTo(_logger).BuildChecked();

    /// <summary>The longest a cancellable read waits for a record before it looks at its token again (no request is made again).</summary>
    private static readonly TimeSpan CancellationSlice = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// How long closing waits for a read under way on another thread: a cancelled one ends at its next look,
    /// within 250 ms while it reads records, but only after the ask under way (up to <see cref="LongestAsk"/>)
    /// while it asks a broker that does not answer for watermarks, or after a registry's answer. The processor's
    /// stop has ~5 s for the rest after its close, so such a read keeps its client to the process's end.
    /// </summary>
    private static readonly TimeSpan DisposeWait = TimeSpan.FromSeconds(2);

    /// <summary>The first wait before asking again where the leader moved; it doubles, up to a second.</summary>
    private static readonly TimeSpan FirstLeaderWait = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest one ask of a cancellable watermark query.</summary>
    private static readonly TimeSpan LongestAsk = TimeSpan.FromSeconds(4);

    /// <summary>How long one wait may take: what remains, cut to <paramref name="longest"/> when the token can cancel it.</summary>
    private static TimeSpan Slice(TimeSpan remaining, TimeSpan longest, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled && remaining > longest ? longest : remaining;

    /// <summary>A deadline <paramref name="timeout"/> from now on the monotonic clock (<see cref="Monotonic"/>): a stepped wall clock neither stretches nor ends a read's patience.</summary>
    private long Deadline(TimeSpan timeout) => _time.After(timeout);

    private TimeSpan Remaining(long deadline) => _time.Left(deadline);

    [LoggerMessage(21, LogLevel.Warning, "A read by {GroupId} did not end within {Seconds} s of its close: its client is left to the process's end")]
    private static partial void LeftRunning(ILogger logger, string groupId, double seconds);
}
