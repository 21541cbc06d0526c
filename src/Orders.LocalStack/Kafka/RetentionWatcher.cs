using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.Kafka;

/// <summary>Records of one partition that the mock's retention dropped since the last check.</summary>
public sealed record DroppedRecords(string Topic, int Partition, long Count);

/// <summary>
/// The mock drops a partition's oldest batches silently once it holds ~5 MiB or 100,000 batches.
/// This watches every partition's log start offset (its low watermark) and warns when it moves, so
/// a user of the stack learns that records are gone before a consumer misses them.
/// </summary>
internal sealed class RetentionWatcher(MockCluster cluster, MockBrokerClient client, ILogger logger)
{
    private readonly Dictionary<(string Topic, int Partition), long> _lowWatermarks = [];
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Checks every partition once and warns about each that lost records since the previous check.</summary>
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

            var current = new Dictionary<(string, int), long>();
            foreach (var leader in byLeader)
            {
                var partitions = leader.GroupBy(p => p.Topic).ToDictionary(g => g.Key, g => g.Select(p => p.Partition).ToList());
                foreach (var (key, offset) in await client.EarliestOffsetsAsync(leader.Key, partitions, cancellationToken))
                {
                    current[key] = offset;
                }
            }

            var dropped = new List<DroppedRecords>();
            foreach (var ((topic, partition), low) in current.OrderBy(c => c.Key))
            {
                // Every log starts at offset 0, so a partition first seen with a later start lost the records before it.
                var previous = _lowWatermarks.GetValueOrDefault((topic, partition));
                if (low > previous)
                {
                    dropped.Add(new DroppedRecords(topic, partition, low - previous));
                    LocalStackLog.RecordsDropped(logger, topic, partition, low - previous);
                }

                // A lower start than before: the topic was deleted and created again.
                _lowWatermarks[(topic, partition)] = low;
            }

            // A deleted topic is seen afresh if it is created again; a partition whose leader is down keeps its mark.
            var topics = metadata.Topics.Where(t => t.ErrorCode == 0).Select(t => t.Name).ToHashSet();
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
    public async Task RunAsync(TimeSpan interval, TimeProvider time, CancellationToken cancellationToken)
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
            catch (Exception e) when (e is IOException or SocketException or KafkaProtocolException)
            {
                // Brokers set down by fault injection, or the stack stopping: try again next time.
                LocalStackLog.RetentionCheckFailed(logger, e.Message);
            }
        }
    }
}
