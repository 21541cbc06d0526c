using System.Buffers.Binary;
using Orders.LocalStack.Kafka;
using Orders.LocalStack.Kafka.Protocol;

namespace Orders.LocalStack.UnitTests;

public sealed class ProduceSizesTests
{
    private static readonly Limits SmallTopic = new(new Dictionary<string, int> { ["small"] = 1_000 });

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(10)]
    public void Split_EveryBatchWithinItsTopicsLimit_ForwardsTheFrameItself(short version)
    {
        var frame = ProduceRequest(version, acks: -1, ("small", 0, [1_000]), ("small", 1, [400, 600]), ("free", 0, [50_000]));

        var split = ProduceSizes.Split(frame, SmallTopic);

        Assert.Empty(split.Refused);
        Assert.False(split.NoResponse);
        Assert.Equal(frame, split.Forward!.Value.ToArray());
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(10)]
    public void Split_ABatchAboveItsTopicsLimit_IsRefused_AndTheRequestsOtherPartitionsAndTopicsGoOnUnchanged(short version)
    {
        var frame = ProduceRequest(version, acks: -1, ("small", 0, [1_001]), ("small", 1, [900]), ("free", 0, [50_000]), ("small", 2, [300, 2_000]));

        var split = ProduceSizes.Split(frame, SmallTopic);

        var forwarded = ReadRequest(split.Forward!.Value.ToArray());
        Assert.Equal(["small/1", "free/0"], forwarded.Select(p => $"{p.Topic}/{p.Partition}"));
        Assert.Equal(Batches([900]), forwarded[0].Records);
        Assert.Equal(Batches([50_000]), forwarded[1].Records);
        Assert.Equal(["small/0", "small/2"], split.Refused.Select(r => $"{r.Topic}/{r.Partition}"));
        Assert.Equal("The record batch size in the append to small-0 is 1001 bytes which exceeds the maximum configured value of 1000.", split.Refused[0].Message);
        Assert.Contains("is 2000 bytes", split.Refused[1].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    public void Split_EveryPartitionRefused_LeavesNothingToForward_AndTheRelaysResponseRefusesEach(short version)
    {
        var frame = ProduceRequest(version, acks: 1, ("small", 0, [5_000]), ("small", 3, [1_500]));

        var split = ProduceSizes.Split(frame, SmallTopic);

        Assert.Null(split.Forward);
        var answered = ReadResponse(ProduceSizes.Response(7, version, split.Refused), version);
        Assert.Equal(7, answered.CorrelationId);
        Assert.Equal(["small/0:10", "small/3:10"], answered.Partitions.Select(p => $"{p.Topic}/{p.Partition}:{p.Error}"));
    }

    [Fact]
    public void Split_AcksZero_SaysNoResponseIsExpected()
    {
        var split = ProduceSizes.Split(ProduceRequest(9, acks: 0, ("small", 0, [5_000])), SmallTopic);

        Assert.True(split.NoResponse);
        Assert.Null(split.Forward);
    }

    [Fact]
    public void Split_ATopicWithoutALimit_TakesAnyBatch()
    {
        var split = ProduceSizes.Split(ProduceRequest(9, acks: -1, ("free", 0, [900_000])), SmallTopic);

        Assert.Empty(split.Refused);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(10)]
    public void AddRefused_PutsTheRefusedPartitionsIntoTheMocksResponse_InTheirTopic_OrATopicOfTheirOwn_KeepingTheRest(short version)
    {
        var mock = MockResponse(version, correlationId: 99, throttle: 123, ("free", 0, 0, 41), ("free", 1, 6, -1));
        RefusedPartition[] refused = [new("free", 3, "too large"), new("small", 0, "too large")];

        var answered = ReadResponse(ProduceSizes.AddRefused(mock, version, refused), version);

        Assert.Equal(99, answered.CorrelationId);
        Assert.Equal(123, answered.Throttle);
        Assert.Equal(["free/0:0@41", "free/1:6@-1", "free/3:10@-1", "small/0:10@-1"], answered.Partitions.Select(p => $"{p.Topic}/{p.Partition}:{p.Error}@{p.BaseOffset}"));
        if (version >= 8)
        {
            Assert.Equal([null, null, "too large", "too large"], answered.Partitions.Select(p => p.Message));
        }
    }

    [Fact]
    public void AddRefused_ATopicNamedTwiceInTheMocksResponse_GetsItsRefusedPartitionsOnce()
    {
        var mock = MockResponse(9, correlationId: 5, throttle: 0, ("free", 0, 0, 1), ("other", 0, 0, 2), ("free", 1, 0, 3));

        var answered = ReadResponse(ProduceSizes.AddRefused(mock, 9, [new RefusedPartition("free", 3, "too large")]), 9);

        Assert.Equal(["free/0:0", "free/3:10", "other/0:0", "free/1:0"], answered.Partitions.Select(p => $"{p.Topic}/{p.Partition}:{p.Error}"));
    }

    [Fact]
    public void Split_AFrameCutShort_IsAProtocolError()
    {
        var frame = ProduceRequest(9, acks: -1, ("small", 0, [500]));
        BinaryPrimitives.WriteInt32BigEndian(frame, frame.Length - 4 - 100);

        Assert.Throws<KafkaProtocolException>(() => ProduceSizes.Split(frame.AsMemory(0, frame.Length - 100), SmallTopic));
    }

    private sealed class Limits(Dictionary<string, int> limits) : IProduceLimits
    {
        public bool Any => limits.Count > 0;

        public int? Of(string topic) => limits.TryGetValue(topic, out var limit) ? limit : null;
    }

    /// <summary>Record batches of these sizes (framing included), as far as the relay reads them: offset, length, then bytes.</summary>
    private static byte[] Batches(int[] sizes)
    {
        var bytes = new byte[sizes.Sum()];
        var position = 0;
        foreach (var size in sizes)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(position + 8), size - 12);
            bytes.AsSpan(position + 12, size - 12).Fill(0xAB);
            position += size;
        }

        return bytes;
    }

    /// <summary>A produce request; partitions of one topic next to each other are sent as one topic entry.</summary>
    private static byte[] ProduceRequest(short version, short acks, params (string Topic, int Partition, int[] Batches)[] partitions) =>
        Frames.Request(KafkaApiKey.Produce, version, 7, w =>
        {
            var flexible = version >= 9;
            if (version >= 3)
            {
                w.WriteNullableString(null, flexible);
            }

            w.WriteInt16(acks);
            w.WriteInt32(30_000);
            WriteTopics(w, flexible, partitions, p => p.Topic, partition =>
            {
                w.WriteInt32(partition.Partition);
                var records = Batches(partition.Batches);
                if (flexible)
                {
                    w.WriteUnsignedVarint((uint)records.Length + 1);
                }
                else
                {
                    w.WriteInt32(records.Length);
                }

                w.WriteBytes(records);
                w.EndStruct(flexible);
            });
            w.EndStruct(flexible);
        });

    /// <summary>
    /// A response in Kafka's Produce layout, as the mock writes one from v6 (rdkafka_mock_handlers.c writes log_start_offset
    /// only from v6, where Kafka's schema has it from v5), with a partition tagged field in v10 as the mock adds for a new leader.
    /// </summary>
    private static byte[] MockResponse(short version, int correlationId, int throttle, params (string Topic, int Partition, short Error, long BaseOffset)[] partitions)
    {
        var flexible = version >= 9;
        var w = KafkaWriter.Response(correlationId, flexible);
        WriteTopics(w, flexible, partitions, p => p.Topic, p =>
        {
            w.WriteInt32(p.Partition);
            w.WriteInt16(p.Error);
            w.WriteInt64(p.BaseOffset);
            w.WriteInt64(-1);
            if (version >= 5)
            {
                w.WriteInt64(0);
            }

            if (version >= 8)
            {
                w.WriteArrayLength(0, flexible);
                w.WriteNullableString(null, flexible);
            }

            if (version >= 10 && p.Error == 6)
            {
                // One tagged field (CurrentLeader): tag 0, 8 bytes of leader id and epoch.
                w.WriteUnsignedVarint(1);
                w.WriteUnsignedVarint(0);
                w.WriteUnsignedVarint(8);
                w.WriteInt32(2);
                w.WriteInt32(5);
            }
            else
            {
                w.EndStruct(flexible);
            }
        });

        w.WriteInt32(throttle);
        w.EndStruct(flexible);
        return w.ToFrame();
    }

    private static List<(string Topic, int Partition, byte[] Records)> ReadRequest(byte[] frame)
    {
        var reader = new KafkaReader(frame.AsSpan(4));
        var header = RequestHeader.Read(ref reader);
        var flexible = header.IsFlexible;
        if (header.ApiVersion >= 3)
        {
            _ = reader.ReadNullableString(flexible);
        }

        reader.Skip(6);
        var found = new List<(string, int, byte[])>();
        var topics = reader.ReadArrayLength(flexible);
        for (var t = 0; t < topics; t++)
        {
            var name = reader.ReadString(flexible);
            var count = reader.ReadArrayLength(flexible);
            for (var p = 0; p < count; p++)
            {
                var partition = reader.ReadInt32();
                var length = flexible ? (int)reader.ReadUnsignedVarint() - 1 : reader.ReadInt32();
                found.Add((name, partition, reader.ReadSpan(length).ToArray()));
                if (flexible)
                {
                    reader.SkipTaggedFields();
                }
            }

            if (flexible)
            {
                reader.SkipTaggedFields();
            }
        }

        if (flexible)
        {
            reader.SkipTaggedFields();
        }

        Assert.Equal(0, reader.Remaining);
        return found;
    }

    private sealed record Answered(int CorrelationId, int Throttle, List<(string Topic, int Partition, short Error, long BaseOffset, string? Message)> Partitions);

    private static Answered ReadResponse(byte[] frame, short version)
    {
        Assert.Equal(frame.Length - 4, BinaryPrimitives.ReadInt32BigEndian(frame));
        var flexible = version >= 9;
        var reader = new KafkaReader(frame.AsSpan(4));
        var correlationId = reader.ReadInt32();
        if (flexible)
        {
            reader.SkipTaggedFields();
        }

        var partitions = new List<(string, int, short, long, string?)>();
        var topics = reader.ReadArrayLength(flexible);
        for (var t = 0; t < topics; t++)
        {
            var name = reader.ReadString(flexible);
            var count = reader.ReadArrayLength(flexible);
            for (var p = 0; p < count; p++)
            {
                var partition = reader.ReadInt32();
                var error = reader.ReadInt16();
                var baseOffset = reader.ReadInt64();
                reader.Skip(version >= 5 ? 16 : 8);
                string? message = null;
                if (version >= 8)
                {
                    Assert.Equal(0, reader.ReadArrayLength(flexible));
                    message = reader.ReadNullableString(flexible);
                }

                if (flexible)
                {
                    reader.SkipTaggedFields();
                }

                partitions.Add((name, partition, error, baseOffset, message));
            }

            if (flexible)
            {
                reader.SkipTaggedFields();
            }
        }

        var throttle = reader.ReadInt32();
        if (flexible)
        {
            reader.SkipTaggedFields();
        }

        Assert.Equal(0, reader.Remaining);
        return new Answered(correlationId, throttle, partitions);
    }

    /// <summary>A topics array: partitions of one topic next to each other make one topic entry, each written by <paramref name="writePartition"/>.</summary>
    private static void WriteTopics<T>(KafkaWriter w, bool flexible, IEnumerable<T> partitions, Func<T, string> topicOf, Action<T> writePartition)
    {
        var topics = Consecutive(partitions, topicOf);
        w.WriteArrayLength(topics.Count, flexible);
        foreach (var topic in topics)
        {
            w.WriteString(topicOf(topic[0]), flexible);
            w.WriteArrayLength(topic.Count, flexible);
            foreach (var partition in topic)
            {
                writePartition(partition);
            }

            w.EndStruct(flexible);
        }
    }

    private static List<List<T>> Consecutive<T>(IEnumerable<T> items, Func<T, string> key)
    {
        var groups = new List<List<T>>();
        foreach (var item in items)
        {
            if (groups.Count == 0 || key(groups[^1][0]) != key(item))
            {
                groups.Add([]);
            }

            groups[^1].Add(item);
        }

        return groups;
    }
}
