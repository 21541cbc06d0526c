using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Orders.Kafka;

namespace Orders.DeadLetters;

/// <summary>The records a partition holds right now: offsets <see cref="Low"/> (inclusive) to <see cref="High"/> (exclusive).</summary>
public readonly record struct PartitionRange(int Partition, long Low, long High)
{
    public long Count => High - Low;

    public bool Contains(long offset) => offset >= Low && offset < High;
}

/// <summary>A read could not finish: retention removed records under it, or the cluster stopped answering.</summary>
public sealed class TopicReadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads topics by assigning partitions, never joining a consumer group: nothing is committed and no
/// group sees a member come and go. A read stops at the high watermark it found when it began, so
/// records that arrive meanwhile are not waited for.
/// </summary>
public sealed class TopicReader : IDisposable
{
    private static readonly TimeSpan PollWait = TimeSpan.FromMilliseconds(200);
    private readonly ConsumerConfig _config;
    private readonly ILogger _logger;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private readonly IConsumer<byte[]?, byte[]?> _records;
    private readonly IAdminClient _metadata;
    private readonly KafkaLogRoute _route;
    private IConsumer<Ignore, Ignore>? _headers;

    /// <param name="config">
    /// Client settings, with the group read for (<c>group.id</c>, the processors' group): the reader's own
    /// id is derived from it (<see cref="ReaderGroups.DeadLetters"/>); no group is joined.
    /// </param>
    /// <param name="timeout">How long a metadata call, or a read without progress, may take before it fails.</param>
    /// <exception cref="KafkaConfigurationException">librdkafka rejected a setting.</exception>
    /// <exception cref="ArgumentException">The settings name no group.</exception>
    public TopicReader(ConsumerConfig config, TimeSpan timeout, TimeProvider time, ILogger logger)
    {
        _config = new ConsumerConfig(new Dictionary<string, string>(config))
        {
            // Confluent.Kafka demands a group id of every consumer; assign() never joins that group, but a
            // secured cluster checks it: one of the group's own name, so the group's ACLs can cover it.
            GroupId = ReaderGroups.DeadLetters(ReaderGroups.GroupOf(config)),
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            // A start offset that retention removed is an error to report, not a jump to report nothing about.
            AutoOffsetReset = AutoOffsetReset.Error,
            AllowAutoCreateTopics = false,
        };
        // A fetch at the end of a partition waits this long for more (the mock cluster always waits it out);
        // a read stops at the end, so waiting there only costs time.
        _config.SetDefault("fetch.wait.max.ms", "50");
        _logger = logger;
        _timeout = timeout;
        _time = time;
        // Until a broker answers (WaitForBrokerAsync), its client's reports of none are held: the wait says it in one line.
        _route = new KafkaLogRoute(logger, time);
        _route.HoldNoBrokerErrors();
        _records = new ConsumerBuilder<byte[]?, byte[]?>(_config).LogTo(_route).LogErrorsTo(_route).BuildChecked();
        _metadata = new DependentAdminClientBuilder(_records.Handle).Build();
    }

    /// <summary>
    /// Waits for a broker to answer, saying once that it waits (as the other verbs do), within the reader's
    /// timeout; a stop ends the wait at once. Call it first: until then the client's reports of an
    /// unreachable broker are held.
    /// </summary>
    /// <exception cref="BrokerUnreachableException">No broker answered within the timeout.</exception>
    /// <exception cref="OperationCanceledException">Cancelled first.</exception>
    public async Task WaitForBrokerAsync(CancellationToken cancellationToken) =>
        await BrokerWait.FirstMetadataAsync(_metadata, _route, _config.BootstrapServers, _timeout, _logger, _time, cancellationToken);

    /// <summary>The group id the reader gives librdkafka (never joined): what a secured cluster's ACLs must allow.</summary>
    public string GroupId => _config.GroupId;

    /// <returns>The topic's partitions and what each holds, or null when the topic does not exist.</returns>
    /// <exception cref="TopicReadException">The cluster did not answer.</exception>
    public IReadOnlyList<PartitionRange>? Ranges(string topic)
    {
        var partitions = Partitions(topic);
        return partitions?.Select(p => Range(topic, p)).ToList();
    }

    /// <returns>The topic's partition numbers, or null when the topic does not exist.</returns>
    /// <exception cref="TopicReadException">The cluster did not answer.</exception>
    public IReadOnlyList<int>? Partitions(string topic)
    {
        Metadata metadata;
        try
        {
            metadata = _metadata.GetMetadata(topic, _timeout);
        }
        catch (KafkaException e)
        {
            throw new TopicReadException($"no metadata for {topic} from {_config.BootstrapServers}: {e.Error.Reason}", e);
        }

        var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
        if (found is null || found.Error.Code is ErrorCode.UnknownTopicOrPart || (found.Error.Code == ErrorCode.NoError && found.Partitions.Count == 0))
        {
            return null;
        }

        if (found.Error.IsError)
        {
            throw new TopicReadException($"metadata for {topic}: {found.Error.Reason}");
        }

        return found.Partitions.Select(p => p.PartitionId).Order().ToList();
    }

    /// <exception cref="TopicReadException">The cluster did not answer.</exception>
    public PartitionRange Range(string topic, int partition)
    {
        try
        {
            var watermarks = _records.QueryWatermarkOffsets(new TopicPartition(topic, partition), _timeout);
            return new PartitionRange(partition, watermarks.Low.Value, watermarks.High.Value);
        }
        catch (KafkaException e)
        {
            throw new TopicReadException($"no watermarks for {topic}[{partition}]: {e.Error.Reason}", e);
        }
    }

    /// <summary>Reads each range from its <see cref="PartitionRange.Low"/> to its <see cref="PartitionRange.High"/>, partitions interleaved.</summary>
    /// <exception cref="TopicReadException">Retention removed records under the read, or no progress for the timeout.</exception>
    public IEnumerable<ConsumeResult<byte[]?, byte[]?>> Read(string topic, IEnumerable<PartitionRange> ranges, CancellationToken cancellationToken) =>
        Read(_records, topic, ranges, cancellationToken);

    /// <summary>As <see cref="Read"/>, but only offsets and headers: no key, value, timestamp or topic is copied.</summary>
    public IEnumerable<ConsumeResult<Ignore, Ignore>> ReadHeaders(string topic, IEnumerable<PartitionRange> ranges, CancellationToken cancellationToken)
    {
        _headers ??= new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig(new Dictionary<string, string>(_config)) { ConsumeResultFields = "headers" })
            .LogTo(_logger)
            .BuildChecked();
        return Read(_headers, topic, ranges, cancellationToken);
    }

    private IEnumerable<ConsumeResult<TKey, TValue>> Read<TKey, TValue>(
        IConsumer<TKey, TValue> consumer, string topic, IEnumerable<PartitionRange> ranges, CancellationToken cancellationToken)
    {
        var nonEmpty = ranges.Where(r => r.Count > 0).ToList();
        if (nonEmpty.Count == 0)
        {
            yield break;
        }

        var until = nonEmpty.ToDictionary(r => r.Partition, r => r.High);
        consumer.Assign(nonEmpty.Select(r => new TopicPartitionOffset(topic, r.Partition, r.Low)));
        try
        {
            var lastProgress = _time.GetTimestamp();
            while (until.Count > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ConsumeResult<TKey, TValue>? result;
                try
                {
                    result = consumer.Consume(PollWait);
                }
                catch (ConsumeException e)
                {
                    throw new TopicReadException(
                        e.Error.Code == ErrorCode.Local_AutoOffsetReset
                            ? $"{topic}: records were removed by retention while they were being read; run again"
                            : $"reading {topic}: {e.Error.Reason}",
                        e);
                }

                if (result is null)
                {
                    // Only a stall counts against the timeout, not a long read.
                    if (_time.GetElapsedTime(lastProgress) > _timeout)
                    {
                        throw new TopicReadException($"reading {topic}: no progress for {_timeout.TotalSeconds:F0} s on partitions {string.Join(", ", until.Keys)}");
                    }

                    continue;
                }

                lastProgress = _time.GetTimestamp();
                var partition = result.Partition.Value;
                if (!until.TryGetValue(partition, out var end))
                {
                    continue;
                }

                if (!result.IsPartitionEOF && result.Offset.Value < end)
                {
                    yield return result;
                }

                if (result.IsPartitionEOF || result.Offset.Value + 1 >= end)
                {
                    until.Remove(partition);
                    consumer.Pause([new TopicPartition(topic, partition)]);
                }
            }
        }
        finally
        {
            consumer.Unassign();
        }
    }

    public void Dispose()
    {
        _metadata.Dispose();
        _headers?.Close();
        _headers?.Dispose();
        _records.Close();
        _records.Dispose();
        _route.Flush();
        _route.Dispose();
    }
}
