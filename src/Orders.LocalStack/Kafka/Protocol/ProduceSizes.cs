using System.Buffers.Binary;

namespace Orders.LocalStack.Kafka.Protocol;

/// <summary>The topics whose produced record batches the relay checks: those with <c>max.message.bytes</c> set.</summary>
internal interface IProduceLimits
{
    /// <summary>Whether any topic has a limit; while none has, produce requests pass unread.</summary>
    bool Any { get; }

    /// <summary>The topic's <c>max.message.bytes</c>, or null when it has none set.</summary>
    int? Of(string topic);
}

/// <summary>A produced partition refused as a broker refuses a record batch above its topic's <c>max.message.bytes</c>.</summary>
internal sealed record RefusedPartition(string Topic, int Partition, string Message);

/// <summary>A produce request with its refused partitions taken out.</summary>
/// <param name="Forward">What goes on to the mock: the frame itself when nothing was refused, the request without the refused partitions, or null when nothing is left.</param>
/// <param name="Refused">The partitions answered with MESSAGE_TOO_LARGE by the relay.</param>
/// <param name="NoResponse">acks=0: the client expects no response at all.</param>
internal sealed record ProduceSplit(ReadOnlyMemory<byte>? Forward, IReadOnlyList<RefusedPartition> Refused, bool NoResponse);

/// <summary>
/// Per-topic <c>max.message.bytes</c> on produce requests (the mock checks only a request's size,
/// 100,000,000 bytes). A broker refuses a record batch larger than its topic's limit with
/// MESSAGE_TOO_LARGE (10) and writes the request's other partitions; so does the relay: it forwards
/// the request without the refused partitions and adds them, refused, to the mock's response.
/// </summary>
internal static class ProduceSizes
{
    public const short MessageTooLarge = 10;

    /// <summary>Offset (i64) and length (i32): the framing of every record batch and legacy message set entry.</summary>
    private const int BatchOverhead = 12;

    /// <param name="frame">A whole Produce request frame, size prefix included.</param>
    /// <exception cref="KafkaProtocolException">The frame is not a valid Produce request.</exception>
    public static ProduceSplit Split(ReadOnlyMemory<byte> frame, IProduceLimits limits)
    {
        var body = frame.Span[4..];
        var reader = new KafkaReader(body);
        var header = RequestHeader.Read(ref reader);
        var flexible = header.IsFlexible;
        if (header.ApiVersion >= 3)
        {
            _ = reader.ReadNullableString(flexible);
        }

        var noResponse = reader.ReadInt16() == 0;
        _ = reader.ReadInt32();
        var topicsStart = reader.Position;
        var topicCount = reader.ReadArrayLength(flexible);
        var topics = new List<TopicEntry>(Math.Max(topicCount, 0));
        var refused = new List<RefusedPartition>();
        for (var t = 0; t < topicCount; t++)
        {
            var nameStart = reader.Position;
            var name = reader.ReadString(flexible);
            var topic = new TopicEntry(nameStart, reader.Position);
            var limit = limits.Of(name);
            var partitionCount = reader.ReadArrayLength(flexible);
            for (var p = 0; p < partitionCount; p++)
            {
                var start = reader.Position;
                var partition = reader.ReadInt32();
                var length = flexible ? (long)reader.ReadUnsignedVarint() - 1 : reader.ReadInt32();
                if (length < -1 || length > reader.Remaining)
                {
                    throw new KafkaProtocolException($"a partition's records claim {length} bytes in {reader.Remaining}");
                }

                var records = length > 0 ? reader.ReadSpan((int)length) : default;
                if (flexible)
                {
                    reader.SkipTaggedFields();
                }

                if (limit is { } max && Largest(records) is var largest && largest > max)
                {
                    refused.Add(new RefusedPartition(name, partition,
                        $"The record batch size in the append to {name}-{partition} is {largest} bytes which exceeds the maximum configured value of {max}."));
                }
                else
                {
                    topic.Kept.Add((start, reader.Position));
                }
            }

            topic.TagsStart = reader.Position;
            if (flexible)
            {
                reader.SkipTaggedFields();
            }

            topic.End = reader.Position;
            topics.Add(topic);
        }

        if (refused.Count == 0)
        {
            return new ProduceSplit(frame, refused, noResponse);
        }

        var kept = topics.Where(t => t.Kept.Count > 0).ToList();
        if (kept.Count == 0)
        {
            return new ProduceSplit(null, refused, noResponse);
        }

        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteBytes(body[..topicsStart]);
        writer.WriteArrayLength(kept.Count, flexible);
        foreach (var topic in kept)
        {
            writer.WriteBytes(body[topic.NameStart..topic.NameEnd]);
            writer.WriteArrayLength(topic.Kept.Count, flexible);
            foreach (var (start, end) in topic.Kept)
            {
                writer.WriteBytes(body[start..end]);
            }

            writer.WriteBytes(body[topic.TagsStart..topic.End]);
        }

        writer.WriteBytes(body[reader.Position..]);
        return new ProduceSplit(writer.ToFrame(), refused, noResponse);
    }

    /// <summary>The response to a request every partition of which was refused.</summary>
    public static byte[] Response(int correlationId, short version, IReadOnlyList<RefusedPartition> refused)
    {
        var flexible = FlexibleVersions.IsFlexible((short)KafkaApiKey.Produce, version);
        var writer = KafkaWriter.Response(correlationId, flexible);
        var byTopic = refused.GroupBy(r => r.Topic).ToList();
        writer.WriteArrayLength(byTopic.Count, flexible);
        foreach (var topic in byTopic)
        {
            writer.WriteString(topic.Key, flexible);
            WriteRefused(writer, version, [.. topic]);
            writer.EndStruct(flexible);
        }

        if (version >= 1)
        {
            writer.WriteInt32(0);
        }

        writer.EndStruct(flexible);
        return writer.ToFrame();
    }

    /// <summary>The mock's response to the forwarded part of a request, with the refused partitions added to their topics.</summary>
    /// <exception cref="KafkaProtocolException">The mock's response is not one of this Produce version.</exception>
    public static byte[] AddRefused(ReadOnlySpan<byte> response, short version, IReadOnlyList<RefusedPartition> refused)
    {
        var flexible = FlexibleVersions.IsFlexible((short)KafkaApiKey.Produce, version);
        var body = response[4..];
        var reader = new KafkaReader(body);
        _ = reader.ReadInt32();
        if (flexible)
        {
            reader.SkipTaggedFields();
        }

        var headerEnd = reader.Position;
        var topicCount = reader.ReadArrayLength(flexible);
        var topics = new List<(string Name, TopicEntry Entry)>(Math.Max(topicCount, 0));
        for (var t = 0; t < topicCount; t++)
        {
            var nameStart = reader.Position;
            var name = reader.ReadString(flexible);
            var topic = new TopicEntry(nameStart, reader.Position);
            var partitionCount = reader.ReadArrayLength(flexible);
            for (var p = 0; p < partitionCount; p++)
            {
                var start = reader.Position;
                SkipPartitionResponse(ref reader, version, flexible);
                topic.Kept.Add((start, reader.Position));
            }

            topic.TagsStart = reader.Position;
            if (flexible)
            {
                reader.SkipTaggedFields();
            }

            topic.End = reader.Position;
            topics.Add((name, topic));
        }

        var answered = topics.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var others = refused.Where(r => !answered.Contains(r.Topic)).GroupBy(r => r.Topic).ToList();
        var writer = new KafkaWriter();
        writer.WriteInt32(0);
        writer.WriteBytes(body[..headerEnd]);
        writer.WriteArrayLength(topics.Count + others.Count, flexible);
        // A topic named twice in the response gets its refused partitions once, in its first entry.
        var placed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, topic) in topics)
        {
            var mine = placed.Add(name) ? refused.Where(r => r.Topic == name).ToList() : [];
            writer.WriteBytes(body[topic.NameStart..topic.NameEnd]);
            writer.WriteArrayLength(topic.Kept.Count + mine.Count, flexible);
            foreach (var (start, end) in topic.Kept)
            {
                writer.WriteBytes(body[start..end]);
            }

            WriteRefusedEntries(writer, version, mine);
            writer.WriteBytes(body[topic.TagsStart..topic.End]);
        }

        foreach (var topic in others)
        {
            writer.WriteString(topic.Key, flexible);
            WriteRefused(writer, version, [.. topic]);
            writer.EndStruct(flexible);
        }

        // Throttle time and the top-level tagged fields, as the mock wrote them.
        writer.WriteBytes(body[reader.Position..]);
        return writer.ToFrame();
    }

    /// <returns>The size of the largest batch in a partition's records, framing included (Kafka's <c>sizeInBytes</c>).</returns>
    private static long Largest(ReadOnlySpan<byte> records)
    {
        long largest = 0;
        var position = 0;
        while (records.Length - position >= BatchOverhead)
        {
            var size = BatchOverhead + (long)BinaryPrimitives.ReadInt32BigEndian(records[(position + 8)..]);
            largest = Math.Max(largest, size);
            if (size <= BatchOverhead || size > records.Length - position)
            {
                break;
            }

            position += (int)size;
        }

        return largest;
    }

    private static void WriteRefused(KafkaWriter writer, short version, IReadOnlyList<RefusedPartition> refused)
    {
        var flexible = FlexibleVersions.IsFlexible((short)KafkaApiKey.Produce, version);
        writer.WriteArrayLength(refused.Count, flexible);
        WriteRefusedEntries(writer, version, refused);
    }

    /// <summary>Partition responses (Kafka's ProduceResponse schema) saying MESSAGE_TOO_LARGE.</summary>
    private static void WriteRefusedEntries(KafkaWriter writer, short version, IReadOnlyList<RefusedPartition> refused)
    {
        var flexible = FlexibleVersions.IsFlexible((short)KafkaApiKey.Produce, version);
        foreach (var partition in refused)
        {
            writer.WriteInt32(partition.Partition);
            writer.WriteInt16(MessageTooLarge);
            writer.WriteInt64(-1);
            if (version >= 2)
            {
                writer.WriteInt64(-1);
            }

            if (version >= 5)
            {
                writer.WriteInt64(-1);
            }

            if (version >= 8)
            {
                writer.WriteArrayLength(0, flexible);
                writer.WriteNullableString(partition.Message, flexible);
            }

            writer.EndStruct(flexible);
        }
    }

    private static void SkipPartitionResponse(ref KafkaReader reader, short version, bool flexible)
    {
        reader.Skip(4 + 2 + 8);
        if (version >= 2)
        {
            reader.Skip(8);
        }

        if (version >= 5)
        {
            reader.Skip(8);
        }

        if (version >= 8)
        {
            var errors = reader.ReadArrayLength(flexible);
            for (var i = 0; i < errors; i++)
            {
                reader.Skip(4);
                _ = reader.ReadNullableString(flexible);
                if (flexible)
                {
                    reader.SkipTaggedFields();
                }
            }

            _ = reader.ReadNullableString(flexible);
        }

        if (flexible)
        {
            reader.SkipTaggedFields();
        }
    }

    /// <summary>Where a topic's parts lie in a request or response body; <see cref="Kept"/> holds its partitions' extents.</summary>
    private sealed class TopicEntry(int nameStart, int nameEnd)
    {
        public int NameStart { get; } = nameStart;

        public int NameEnd { get; } = nameEnd;

        public List<(int Start, int End)> Kept { get; } = [];

        public int TagsStart { get; set; }

        public int End { get; set; }
    }
}
