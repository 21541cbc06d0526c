using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Orders.LocalStack.Kafka.Admin;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka;

/// <summary>Records of one partition that the mock's retention dropped since the last check.</summary>
public sealed record DroppedRecords(string Topic, int Partition, long Count);

/// <summary>
/// Two kinds of retention. The mock drops a partition's oldest batches silently once it holds ~5 MiB
/// or 100,000 batches: this watches every partition's log start offset (its low watermark) and warns
/// when it moves, so a user of the stack learns that records are gone before a consumer misses them.
/// And a topic's <c>retention.ms</c> (with <c>cleanup.policy</c> delete), which the mock does not
/// know: every check notes each partition's end offset and when it was seen, and deletes the records
/// that were already there <c>retention.ms</c> ago. Like Kafka, which deletes a segment once its newest
/// record is older than retention.ms (the active segment included), this empties a partition that has
/// been written nothing for that long. Time is when a record arrived, to within the check interval.
/// </summary>
internal sealed class RetentionWatcher(MockCluster cluster, MockBrokerClient client, TopicConfigs topicConfigs, TimeProvider time, ILogger logger)
{
    private readonly Dictionary<(string Topic, int Partition), long> _lowWatermarks = [];
    private readonly Dictionary<(string Topic, int Partition), List<(DateTimeOffset At, long End)>> _ends = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Applies <c>retention.ms</c>, then checks every partition once and warns about each that lost records to the mock's size limit since the previous check.</summary>
    public async Task<IReadOnlyList<DroppedRecords>> CheckAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var metadata = await client.MetadataAsync(null, cancellationToken);
            var live = cluster.LiveBrokerIds;
            var byLeader = metadata.Topics
                .Where(t => t.ErrorCode == 0)
                .SelectMany(t => t.Partitions.Select(p => (Topic: t.Name, Partition: p.Id, p.Leader)))
                .Where(p => live.Contains(p.Leader))
                .GroupBy(p => p.Leader);

            var starts = new Dictionary<(string, int), long>();
            var ends = new Dictionary<(string, int), long>();
            foreach (var leader in byLeader)
            {
                var partitions = leader.GroupBy(p => p.Topic).ToDictionary(g => g.Key, g => g.Select(p => p.Partition).ToList());
                foreach (var (key, offset) in await client.EarliestOffsetsAsync(leader.Key, partitions, cancellationToken))
                {
                    starts[key] = offset;
                }

                foreach (var (key, offset) in await client.LatestOffsetsAsync(leader.Key, partitions, cancellationToken))
                {
                    ends[key] = offset;
                }
            }

            var topics = metadata.Topics.Where(t => t.ErrorCode == 0).Select(t => t.Name).ToHashSet();
            var deleted = ApplyTimeRetention(starts, ends, topics);
            var dropped = new List<DroppedRecords>();
            foreach (var ((topic, partition), low) in starts.OrderBy(c => c.Key))
            {
                // Every log starts at offset 0, so a partition first seen with a later start lost the records before it.
                var previous = _lowWatermarks.GetValueOrDefault((topic, partition));
                if (low > previous)
                {
                    dropped.Add(new DroppedRecords(topic, partition, low - previous));
                    LocalStackLog.RecordsDropped(logger, topic, partition, low - previous);
                }

                // A lower start than before: the topic was deleted and created again. Records deleted for
                // retention.ms just now are not the mock's loss: the next check starts from there.
                _lowWatermarks[(topic, partition)] = deleted.GetValueOrDefault((topic, partition), low);
            }

            // A deleted topic is seen afresh if it is created again; a partition whose leader is down keeps its mark.
            foreach (var key in _lowWatermarks.Keys.Where(k => !topics.Contains(k.Topic)).ToList())
            {
                _lowWatermarks.Remove(key);
            }

            return dropped;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Checks every <paramref name="interval"/> until cancelled.</summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, cancellationToken);
                await CheckAsync(cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or SocketException or KafkaProtocolException or Confluent.Kafka.KafkaException)
            {
                // Brokers set down by fault injection, or the stack stopping: try again next time.
                LocalStackLog.RetentionCheckFailed(logger, e.Message);
            }
        }
    }

    /// <summary>Notes each partition's end now, and deletes what time retention no longer keeps.</summary>
    /// <returns>The new log start of each partition it deleted records of.</returns>
    private Dictionary<(string, int), long> ApplyTimeRetention(IReadOnlyDictionary<(string, int), long> starts, Dictionary<(string, int), long> ends, HashSet<string> topics)
    {
        var now = time.GetUtcNow();
        var retention = topicConfigs.TimeRetention();
        var deleted = new Dictionary<(string, int), long>();
        foreach (var ((topic, partition), end) in ends)
        {
            if (!_ends.TryGetValue((topic, partition), out var seen))
            {
                seen = [];
                _ends[(topic, partition)] = seen;
            }

            if (seen.Count == 0 || seen[^1].End != end)
            {
                seen.Add((now, end));
            }

            if (!retention.TryGetValue(topic, out var keep))
            {
                // Only the newest sample matters until a retention is set: it bounds what came before.
                seen.RemoveRange(0, seen.Count - 1);
                continue;
            }

            // Everything below an end seen at or before the cut-off arrived before it.
            var cutoff = now - keep;
            var expired = seen.FindLastIndex(s => s.At <= cutoff);
            if (expired < 0)
            {
                continue;
            }

            var before = seen[expired].End;
            seen.RemoveRange(0, expired);
            var start = starts.GetValueOrDefault((topic, partition));
            if (before > start)
            {
                cluster.DeleteRecords(topic, partition, before);
                deleted[(topic, partition)] = before;
                LocalStackLog.RetentionDeleted(logger, topic, partition, before - start, (long)keep.TotalMilliseconds);
            }
        }

        foreach (var key in _ends.Keys.Where(k => !topics.Contains(k.Topic)).ToList())
        {
            _ends.Remove(key);
        }

        return deleted;
    }
}
