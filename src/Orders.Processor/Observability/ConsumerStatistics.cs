using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Orders.Processor.Observability;

/// <summary>The offsets librdkafka reports for one partition in its statistics.</summary>
/// <param name="High">The partition's high watermark (-1 until known).</param>
/// <param name="LastStable">The last stable offset (-1 until known); what a read_committed consumer can reach.</param>
/// <param name="Committed">The group's committed offset (-1001 when none).</param>
public readonly record struct PartitionOffsets(long High, long LastStable, long Committed);

/// <summary>
/// What the processor takes from librdkafka's statistics (<c>statistics.interval.ms</c>): each
/// partition's end offsets, to tell how far the processor is behind, and whether any broker is
/// connected. Only the orders topic's partitions and each broker's id and state are read; the rest
/// of the (large) document is skipped unparsed. Updated from the consumer's statistics callback,
/// about once a second; read from anywhere.
/// </summary>
public sealed class ConsumerStatistics(string topic, bool readCommitted, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private volatile IReadOnlyDictionary<int, PartitionOffsets> _partitions = new Dictionary<int, PartitionOffsets>();
    private long _connectedAt;
    private volatile int _brokersUp = -1;

    /// <summary>The newest offsets per partition of the topic, empty before the first statistics.</summary>
    public IReadOnlyDictionary<int, PartitionOffsets> Partitions => _partitions;

    /// <summary>How long a broker with requests awaiting their responses may receive nothing before it is not counted as connected.</summary>
    public static readonly TimeSpan Unanswered = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Brokers connected (state <c>UP</c>; the client's logical ones aside) and answering (none awaited for
    /// <see cref="Unanswered"/> with nothing received) in the newest statistics; null before any.
    /// </summary>
    public int? BrokersUp => _brokersUp < 0 ? null : _brokersUp;

    /// <summary>
    /// How long no broker has been connected: since the last statistics that showed one (or the first
    /// statistics, if none ever did). Null while one is, and before any statistics.
    /// </summary>
    public TimeSpan? DisconnectedFor => _brokersUp == 0 ? _time.GetElapsedTime(Interlocked.Read(ref _connectedAt)) : null;

    /// <summary>Takes in one statistics document; a document it cannot read changes nothing.</summary>
    /// <returns>Whether the document was read.</returns>
    public bool Update(string json)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(json.Length));
        try
        {
            var length = Encoding.UTF8.GetBytes(json, buffer);
            if (Parse(buffer.AsSpan(0, length), topic, out var brokersUp) is not { } partitions)
            {
                return false;
            }

            _partitions = partitions;
            if (brokersUp is { } up)
            {
                if (up > 0 || _brokersUp < 0)
                {
                    Interlocked.Exchange(ref _connectedAt, _time.GetTimestamp());
                }

                _brokersUp = up;
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The records of a partition not yet in the processor's state: the end a consumer can read to
    /// (the high watermark, or the last stable offset under read_committed, as librdkafka's own
    /// consumer_lag) minus the next offset the state covers. Null while the end is unknown.
    /// </summary>
    public long? LagOf(int partition, long nextOffset)
    {
        if (!_partitions.TryGetValue(partition, out var offsets))
        {
            return null;
        }

        var end = readCommitted && offsets.LastStable >= 0 ? offsets.LastStable : offsets.High;
        return end < 0 ? null : Math.Max(0, end - nextOffset);
    }

    /// <param name="brokersUp">The brokers in state <c>UP</c> (node id 0 or more: not the bootstrap or logical ones); null when the document lists none.</param>
    /// <returns>The partitions of <paramref name="topic"/>, or null when the document is not librdkafka's statistics.</returns>
    internal static Dictionary<int, PartitionOffsets>? Parse(ReadOnlySpan<byte> json, string topic, out int? brokersUp)
    {
        brokersUp = null;
        var partitions = new Dictionary<int, PartitionOffsets>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            // { ..., "topics": { "<topic>": { ..., "partitions": { "<id>": { "hi_offset": n, ... } } } } }
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("brokers"u8))
                {
                    brokersUp = ReadBrokersUp(ref reader);
                    continue;
                }

                if (!reader.ValueTextEquals("topics"u8))
                {
                    SkipValue(ref reader);
                    continue;
                }

                if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                {
                    return null;
                }

                while (NextProperty(ref reader))
                {
                    if (reader.ValueTextEquals(topic))
                    {
                        ReadTopic(ref reader, partitions);
                    }
                    else
                    {
                        SkipValue(ref reader);
                    }
                }
            }
        }
        catch (JsonException)
        {
            return null;
        }

        return partitions;
    }

    /// <summary>{ "host:port/1": { "nodeid": 1, "state": "UP", ... }, "GroupCoordinator": { "nodeid": -1, ... } }</summary>
    private static int ReadBrokersUp(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("brokers are not an object");
        }

        var up = 0;
        while (NextProperty(ref reader))
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("a broker's statistics are not an object");
            }

            var nodeId = -1L;
            var isUp = false;
            var (waitingForResponses, silentMicros) = (0L, -1L);
            while (NextProperty(ref reader))
            {
                if (reader.ValueTextEquals("nodeid"u8))
                {
                    nodeId = ReadLong(ref reader);
                }
                else if (reader.ValueTextEquals("state"u8))
                {
                    isUp = reader.Read() && reader.TokenType == JsonTokenType.String && reader.ValueTextEquals("UP"u8);
                }
                else if (reader.ValueTextEquals("waitresp_cnt"u8))
                {
                    waitingForResponses = ReadLong(ref reader);
                }
                else if (reader.ValueTextEquals("rxidle"u8))
                {
                    silentMicros = ReadLong(ref reader);
                }
                else
                {
                    SkipValue(ref reader);
                }
            }

            // A broker that hangs keeps its connection UP until socket.timeout.ms (60 s) ends it: asked and silent
            // for that long, it is not counted as connected. One asked nothing may be idle for any time.
            var hung = waitingForResponses > 0 && silentMicros >= (long)Unanswered.TotalMicroseconds;
            if (isUp && nodeId >= 0 && !hung)
            {
                up++;
            }
        }

        return up;
    }

    private static void ReadTopic(ref Utf8JsonReader reader, Dictionary<int, PartitionOffsets> partitions)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a topic's statistics are not an object");
        }

        while (NextProperty(ref reader))
        {
            if (!reader.ValueTextEquals("partitions"u8))
            {
                SkipValue(ref reader);
                continue;
            }

            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new JsonException("partitions are not an object");
            }

            while (NextProperty(ref reader))
            {
                // "-1" is librdkafka's internal unassigned partition.
                if (!int.TryParse(reader.GetString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var id))
                {
                    SkipValue(ref reader);
                    continue;
                }

                partitions[id] = ReadPartition(ref reader);
            }
        }
    }

    private static PartitionOffsets ReadPartition(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException("a partition's statistics are not an object");
        }

        long high = -1, stable = -1, committed = -1001;
        while (NextProperty(ref reader))
        {
            if (reader.ValueTextEquals("hi_offset"u8))
            {
                high = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("ls_offset"u8))
            {
                stable = ReadLong(ref reader);
            }
            else if (reader.ValueTextEquals("committed_offset"u8))
            {
                committed = ReadLong(ref reader);
            }
            else
            {
                SkipValue(ref reader);
            }
        }

        return new PartitionOffsets(high, stable, committed);
    }

    /// <summary>Moves to the next property name of the current object; false at its end.</summary>
    private static bool NextProperty(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("truncated statistics");
        }

        return reader.TokenType switch
        {
            JsonTokenType.PropertyName => true,
            JsonTokenType.EndObject => false,
            _ => throw new JsonException($"unexpected {reader.TokenType}"),
        };
    }

    private static void SkipValue(ref Utf8JsonReader reader)
    {
        if (!reader.Read())
        {
            throw new JsonException("truncated statistics");
        }

        reader.Skip();
    }

    private static long ReadLong(ref Utf8JsonReader reader)
    {
        if (!reader.Read() || reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value))
        {
            throw new JsonException("an offset is not an integer");
        }

        return value;
    }
}
